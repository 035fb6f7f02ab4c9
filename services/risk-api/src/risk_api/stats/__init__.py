"""Risk figures for dashboards: levels, movements between levels, assessments per child."""
