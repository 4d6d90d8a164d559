"""Engine-agnostic transforms: Ibis expressions over the raw zone and each other. No engine code here."""
