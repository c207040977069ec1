"""Country and US state names, so "which city" is not answered with a country or a state, "which
state" not with a country, and "which country" gets one.

spaCy labels cities, states and countries all GPE; these lists tell them apart well enough for answers.
"""

from __future__ import annotations

_COUNTRY_NAMES = tuple(
    name.replace("_", " ")  # _ joins the words of one name
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
COUNTRIES = frozenset(name.lower() for name in _COUNTRY_NAMES)
# Demonyms that do not start with their country's name ("Chinese" does: China minus its last letter).
_IRREGULAR_DEMONYMS = {
    "french": "France",
    "british": "United Kingdom",
    "english": "England",
    "spanish": "Spain",
    "dutch": "Netherlands",
    "swiss": "Switzerland",
    "swedish": "Sweden",
    "turkish": "Turkey",
    "polish": "Poland",
    "danish": "Denmark",
    "finnish": "Finland",
    "norwegian": "Norway",
    "filipino": "Philippines",
    "irish": "Ireland",
    "welsh": "Wales",
    "scottish": "Scotland",
    "lebanese": "Lebanon",
    "portuguese": "Portugal",
    "emirati": "United Arab Emirates",
    "belgian": "Belgium",
    "peruvian": "Peru",
    "argentine": "Argentina",
    "argentinian": "Argentina",
    "american": "United States",
    "greek": "Greece",
    "thai": "Thailand",
    "cuban": "Cuba",
    "afghan": "Afghanistan",
    "german": "Germany",
    "dominican": "Dominican Republic",
    "czech": "Czech Republic",
    "slovak": "Slovakia",
    "kiwi": "New Zealand",
}


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


_NOT_DEMONYMS = frozenset({"north", "south", "united", "great", "central", "dominican", "sierra", "papua"})


def country_of_demonym(demonym: str) -> str | None:
    """The country a nationality word names ("Saudi" -> Saudi Arabia, "Sri Lankan" -> Sri Lanka,
    "Chinese" -> China), or None ("Muslim", "Republicans")."""
    word = _normal(demonym)
    if word in _IRREGULAR_DEMONYMS:
        return _IRREGULAR_DEMONYMS[word]
    matches = []
    for name in _COUNTRY_NAMES:
        lowered = name.lower()
        stem = lowered[:-1] if lowered[-1] in "aeoy" else lowered  # Chin(a)ese, Ukrain(e)ian, Ital(y)ian
        first_word = lowered.startswith(word + " ") and len(word) >= 5 and word not in _NOT_DEMONYMS  # Saudi
        if len(stem) >= 4 and word.startswith(stem) or first_word:
            matches.append(name)
    return max(matches, key=len) if matches else None  # Nigerian: Nigeria, not Niger


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
