"""Country names, so "which city" is not answered with a country and "which country" prefers one.

spaCy labels both cities and countries GPE; this list tells them apart well enough for answers.
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


def is_country(name: str) -> bool:
    lowered = name.lower().strip()
    return lowered.removeprefix("the ") in COUNTRIES
