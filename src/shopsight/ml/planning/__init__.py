"""The planning job: demand forecasts with intervals, stock policies, replenishment and price suggestions,
computed from the published warehouse and stored for the API to serve cheaply."""
