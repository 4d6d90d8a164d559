"""Recommendations: models behind one interface, business rules, cold start and offline evaluation."""
