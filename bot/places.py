"""Country and US state names, so "which city" is not answered with a country or a state, "which
state" not with a country, and "which country" gets one.

spaCy labels cities, states and countries all GPE; these lists tell them apart well enough for answers.
"""

from __future__ import annotations

COUNTRIES = frozenset(
    name.replace("_", " ").lower()  # _ joins the words of one name
    for name in """
Afghanistan Albania Algeria Andorra Angola Argentina Armenia Australia Austria Azerbaijan Bahamas Bahrain
Bangladesh Barbados Belarus Belgium Belize Benin Bhutan Bolivia Bosnia Botswana Brazil Brunei Bulgaria
Burkina_Faso Burundi Cambodia Cameroon Canada Chad Chile China Colombia Comoros Congo Croatia Cuba Cyprus
Czechia Czech_Republic Denmark Djibouti Dominica Dominican_Republic Ecuador Egypt El_Salvador Eritrea Estonia
Eswatini Ethiopia Fiji Finland France Gabon Gambia Georgia Germany Ghana Greece Grenada Guatemala Guinea Guyana
Haiti Honduras Hungary Iceland India Indonesia Iran Iraq Ireland Israel Italy Jamaica Japan Jordan Kazakhstan
Kenya Kiribati Kosovo Kuwait Kyrgyzstan Laos Latvia Lebanon Lesotho Liberia Libya Liechtenstein Lithuania
Luxembourg Madagascar Malawi Malaysia Maldives Mali Malta Mauritania Mauritius Mexico Micronesia Moldova Monaco
Mongolia Montenegro Morocco Mozambique Myanmar Burma Namibia Nauru Nepal Netherlands Holland New_Zealand Nicaragua
Niger Nigeria North_Korea North_Macedonia Norway Oman Pakistan Palau Palestine Panama Papua_New_Guinea Paraguay
Peru Philippines Poland Portugal Qatar Romania Russia Rwanda Samoa San_Marino Saudi_Arabia Senegal Serbia
Seychelles Sierra_Leone Singapore Slovakia Slovenia Somalia South_Africa South_Korea Korea South_Sudan Spain
Sri_Lanka Sudan Suriname Sweden Switzerland Syria Taiwan Tajikistan Tanzania Thailand Togo Tonga Trinidad
Tunisia Turkey Türkiye Turkmenistan Tuvalu Uganda Ukraine United_Arab_Emirates UAE United_Kingdom UK Britain
Great_Britain England Scotland Wales United_States US U.S. USA U.S.A. America Uruguay Uzbekistan Vanuatu
Vatican Venezuela Vietnam Yemen Zambia Zimbabwe
""".split()
)


US_STATES = frozenset(
    name.replace("_", " ").lower()
    for name in """
Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho Illinois
Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota Mississippi Missouri
Montana Nebraska Nevada New_Hampshire New_Jersey New_Mexico New_York North_Carolina North_Dakota Ohio Oklahoma
Oregon Pennsylvania Rhode_Island South_Carolina South_Dakota Tennessee Texas Utah Vermont Virginia Washington
West_Virginia Wisconsin Wyoming
""".split()
)


def _normal(name: str) -> str:
    return name.lower().strip().removeprefix("the ")


def is_country(name: str) -> bool:
    return _normal(name) in COUNTRIES


def is_us_state(name: str) -> bool:
    return _normal(name) in US_STATES


def place_fit(name: str, kind: str) -> float:
    """How well a place name answers a question asking for a `kind` ("city", "state", "country"):
    1.0 fits, 0.9 may fit (a state question answered by a name in no list: a state outside the US,
    or a town), 0.0 does not. Cities are in no list, so for "which city" any name but a country's
    or a state's fits (New York and Washington are cities too)."""
    if kind == "country":
        return 1.0 if is_country(name) else 0.0
    if kind == "state":
        return 1.0 if is_us_state(name) else 0.0 if is_country(name) else 0.9
    if _normal(name) in {"new york", "washington"}:
        return 1.0
    return 0.0 if is_country(name) or is_us_state(name) else 1.0
