"""Reference tables of Callao's trade: the export commodity mix and its seasons, destination ports
and regions, import goods and origins, and the values that price a seizure or an evasion.
Approximate, for synthetic data and the twin's customs stage (facts §6)."""

from __future__ import annotations

from dataclasses import dataclass

COCAINE_USD_PER_KG = 1500.0
"""Nominal value at stake per kg of cocaine seized (USD; roughly the wholesale price in Peru)."""

CALLAO = "PECLL"
IGV_RATE = 0.18
"""Peru's general sales tax (IGV + municipal), charged on imports; a fraction."""


@dataclass(frozen=True)
class Commodity:
    """An export commodity: HS code, share of export boxes, reefer, USD per kg, kg per box, kg per
    package, peak month (1-12) and seasonal amplitude (0..1), destination-region weights, and its
    attractiveness for concealing cocaine (relative)."""

    name: str
    hs_code: str
    share: float
    reefer: bool
    usd_per_kg: float
    kg_per_box: float
    kg_per_package: float
    peak_month: int
    seasonality: float
    regions: tuple[tuple[str, float], ...]
    concealment: float


EXPORT_COMMODITIES: tuple[Commodity, ...] = (
    Commodity("fresh asparagus", "070920", 0.06, True, 3.0, 12000, 5, 10, 0.3, (("europe", .4), ("north_america", .55), ("asia", .05)), 2.0),
    Commodity("canned asparagus", "200560", 0.04, False, 3.5, 18000, 12, 6, 0.1, (("europe", .7), ("north_america", .25), ("latam", .05)), 3.0),
    Commodity("avocado", "080440", 0.09, True, 2.2, 20000, 4, 6, 0.6, (("europe", .6), ("north_america", .25), ("asia", .1), ("latam", .05)), 2.5),
    Commodity("grapes", "080610", 0.08, True, 2.5, 18000, 8, 1, 0.8, (("europe", .3), ("north_america", .4), ("asia", .3)), 1.5),
    Commodity("blueberries", "081040", 0.07, True, 7.0, 12000, 2, 10, 0.8, (("europe", .35), ("north_america", .5), ("asia", .15)), 1.5),
    Commodity("mandarins", "080521", 0.04, True, 1.2, 20000, 10, 7, 0.7, (("europe", .3), ("north_america", .5), ("asia", .2)), 1.2),
    Commodity("mangoes", "080450", 0.03, True, 1.4, 19000, 4, 1, 0.8, (("europe", .6), ("north_america", .4)), 1.5),
    Commodity("passion-fruit juice", "200989", 0.02, True, 2.8, 20000, 200, 6, 0.2, (("europe", .8), ("north_america", .2)), 3.0),
    Commodity("coffee", "090111", 0.05, False, 4.5, 19000, 60, 8, 0.5, (("europe", .5), ("north_america", .4), ("asia", .1)), 3.0),
    Commodity("cocoa beans", "180100", 0.02, False, 3.0, 20000, 60, 6, 0.3, (("europe", .7), ("north_america", .2), ("asia", .1)), 1.5),
    Commodity("canned mackerel", "160415", 0.02, False, 2.0, 18000, 15, 6, 0.1, (("europe", .3), ("latam", .6), ("asia", .1)), 2.0),
    Commodity("fish meal", "230120", 0.08, False, 1.6, 25000, 50, 5, 0.5, (("asia", .85), ("europe", .1), ("latam", .05)), 0.5),
    Commodity("scrap metal", "720449", 0.04, False, 0.35, 24000, 1000, 6, 0.0, (("asia", .6), ("europe", .3), ("latam", .1)), 2.5),
    Commodity("zinc concentrate", "260800", 0.09, False, 1.1, 26000, 26000, 6, 0.0, (("asia", .7), ("europe", .3)), 0.3),
    Commodity("copper concentrate", "260300", 0.12, False, 3.0, 26000, 26000, 6, 0.0, (("asia", .85), ("europe", .15)), 0.3),
    Commodity("cotton textiles", "610910", 0.06, False, 25.0, 6000, 10, 9, 0.2, (("north_america", .7), ("latam", .2), ("europe", .1)), 1.0),
    Commodity("quinoa", "100850", 0.02, False, 2.5, 20000, 25, 6, 0.0, (("north_america", .5), ("europe", .4), ("asia", .1)), 1.2),
    Commodity("paprika", "090421", 0.02, False, 2.7, 14000, 25, 8, 0.2, (("north_america", .4), ("europe", .5), ("latam", .1)), 1.0),
    Commodity("frozen squid", "030743", 0.04, True, 2.3, 22000, 20, 6, 0.2, (("asia", .7), ("europe", .2), ("latam", .1)), 1.0),
)
"""Callao's container export mix (shares of export boxes; approximate, for synthetic data)."""

DRIFT_COMMODITY = Commodity(
    "fresh ginger", "091011", 0.0, True, 1.8, 18000, 13, 6, 0.0,
    (("europe", .75), ("north_america", .25)), 3.0,
)
"""The commodity that becomes popular mid-year in the drift data set."""


@dataclass(frozen=True)
class Port:
    """A destination or origin port: UN/LOCODE, name, ISO country, region, relative weight."""

    locode: str
    name: str
    country: str
    region: str
    weight: float


PORTS: tuple[Port, ...] = (
    Port("NLRTM", "Rotterdam", "NL", "europe", 3.0),
    Port("BEANR", "Antwerp", "BE", "europe", 2.5),
    Port("ESVLC", "Valencia", "ES", "europe", 1.2),
    Port("ESALG", "Algeciras", "ES", "europe", 1.0),
    Port("DEHAM", "Hamburg", "DE", "europe", 1.0),
    Port("USPHL", "Philadelphia", "US", "north_america", 1.5),
    Port("USNYC", "New York", "US", "north_america", 1.5),
    Port("USLAX", "Los Angeles", "US", "north_america", 2.0),
    Port("CAVAN", "Vancouver", "CA", "north_america", 0.5),
    Port("CNSHA", "Shanghai", "CN", "asia", 3.0),
    Port("KRPUS", "Busan", "KR", "asia", 1.2),
    Port("JPYOK", "Yokohama", "JP", "asia", 1.0),
    Port("HKHKG", "Hong Kong", "HK", "asia", 1.0),
    Port("CLSAI", "San Antonio", "CL", "latam", 1.5),
    Port("MXZLO", "Manzanillo", "MX", "latam", 0.8),
    Port("PAMIT", "Manzanillo (Panama)", "PA", "latam", 0.6),
)
"""Destination ports for Callao exports (weights are relative within a region)."""

DRIFT_PORT = Port("ITGIT", "Gioia Tauro", "IT", "europe", 0.0)
"""The route that opens mid-year in the drift data set."""

REGION_PULL: dict[str, float] = {"europe": 4.0, "latam": 1.5, "north_america": 0.6, "asia": 0.3}
"""Smugglers' relative preference for destination regions (Europe and Chile dominate)."""

IMPORT_GOODS: tuple[tuple[str, str, float, float, float, float, float], ...] = (
    # name, hs, share, usd/kg, kg/box, duty %, fraud risk (relative)
    ("mobile phones", "851712", 0.06, 120.0, 3000, 0.0, 2.0),
    ("laptops", "847130", 0.05, 60.0, 4000, 0.0, 1.5),
    ("passenger cars", "870323", 0.10, 9.0, 9000, 6.0, 1.0),
    ("tyres", "401110", 0.06, 3.5, 12000, 6.0, 1.2),
    ("steel sheet", "721049", 0.10, 0.9, 25000, 0.0, 0.4),
    ("polyethylene", "390110", 0.08, 1.3, 24000, 0.0, 0.4),
    ("men's suits", "620342", 0.06, 14.0, 8000, 11.0, 3.0),
    ("footwear", "640299", 0.07, 9.0, 9000, 11.0, 3.0),
    ("toys", "950300", 0.06, 6.0, 8000, 6.0, 2.0),
    ("wheat", "100199", 0.08, 0.3, 26000, 0.0, 0.2),
    ("machinery parts", "843149", 0.08, 8.0, 12000, 0.0, 0.8),
    ("chemicals", "290250", 0.06, 1.5, 22000, 0.0, 0.5),
    ("LED lamps", "940540", 0.07, 12.0, 7000, 6.0, 2.2),
    ("household appliances", "851650", 0.07, 7.0, 8000, 6.0, 1.5),
)
DRIFT_IMPORT = ("electric bicycles", "871160", 0.0, 15.0, 7000, 6.0, 3.5)

IMPORT_ORIGINS: tuple[tuple[str, str, float, float], ...] = (
    # locode, country, weight, fraud risk (relative)
    ("CNSHA", "CN", 4.0, 1.8), ("CNNGB", "CN", 2.0, 1.8), ("USHOU", "US", 1.5, 0.5), ("KRPUS", "KR", 1.0, 0.7),
    ("JPYOK", "JP", 0.7, 0.5), ("DEHAM", "DE", 0.8, 0.5), ("BRSSZ", "BR", 0.8, 1.0), ("MXZLO", "MX", 0.6, 1.0),
    ("COCTG", "CO", 0.5, 1.2), ("ECGYE", "EC", 0.5, 1.2), ("INNSA", "IN", 0.8, 1.4), ("PAMIT", "PA", 0.8, 2.0),
)
