"""The port's data coming in: AIS messages, port calls, and the calls table every consumer reads."""
