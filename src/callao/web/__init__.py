"""The web dashboard (``callao serve``): a map of the bay with vessels moving over simulated time,
KPI cards and plots, scenario comparisons, runs started from the page. Offline: Dash's own assets
and the bundled GeoJSON only."""
