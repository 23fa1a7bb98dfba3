"""Start the twin from the port's observed state at a time and forecast the next days, with
prediction bands; backtest the forecasts on a simulated year."""

from callao.forecast.run import Forecast, forecast
from callao.forecast.state import PortState, port_state

__all__ = ["Forecast", "PortState", "forecast", "port_state"]
