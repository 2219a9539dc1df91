"""ICAO Annex 10, Volume III, Chapter 9, Table 9-1: 24-bit addresses allocated to States.

Written from the standard (one row per State, in the standard's alphabetical
order: first address of the block and block size), so that the country of
registry of an address is known even on a machine with no aircraft database.
ISO 3166 alpha-2 codes were added by hand. Three rows are not States of the
table but blocks in general use: ``TW`` (Taiwan, 899000-8993FF) and the two
ICAO blocks (``XA``, named "ICAO": F00000-F07FFF for temporary and F09000-F093FF for
special-use allocations). Malta's
block is the extended 4D2000-4D2FFF (older editions of the table list 1,024
addresses, 4D2000-4D23FF).

States hand out sub-blocks to their territories (the United Kingdom's block
holds Bermuda, Cayman, Isle of Man...); those sub-allocations are national
decisions, not part of Table 9-1, and are only known from a database (VRS
code-blocks) — :mod:`tailwatch.identity.blocks` prefers the database when present.

>>> t = annex10_table()
>>> row = t.filter(pa.compute.equal(t["iso2"], "NE")).to_pylist()[0]
>>> f"{row['start']:06X}-{row['finish']:06X}", row["name"]
('062000-062FFF', 'Niger')
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute

_K = 1024
_SIZE = {"1K": _K, "4K": 4 * _K, "32K": 32 * _K, "256K": 256 * _K, "1M": 1024 * _K}

# start (hex), size, ISO2, State as named in the table (short form)
_TABLE = """\
700000 4K AF Afghanistan
501000 1K AL Albania
0A0000 32K DZ Algeria
090000 4K AO Angola
0CA000 1K AG Antigua and Barbuda
E00000 256K AR Argentina
600000 1K AM Armenia
7C0000 256K AU Australia
440000 32K AT Austria
600800 1K AZ Azerbaijan
0A8000 4K BS Bahamas
894000 4K BH Bahrain
702000 4K BD Bangladesh
0AA000 1K BB Barbados
510000 1K BY Belarus
448000 32K BE Belgium
0AB000 1K BZ Belize
094000 1K BJ Benin
680000 1K BT Bhutan
E94000 4K BO Bolivia
513000 1K BA Bosnia and Herzegovina
030000 1K BW Botswana
E40000 256K BR Brazil
895000 1K BN Brunei Darussalam
450000 32K BG Bulgaria
09C000 4K BF Burkina Faso
032000 4K BI Burundi
70E000 4K KH Cambodia
034000 4K CM Cameroon
C00000 256K CA Canada
096000 1K CV Cabo Verde
06C000 4K CF Central African Republic
084000 4K TD Chad
E80000 4K CL Chile
780000 256K CN China
0AC000 4K CO Colombia
035000 1K KM Comoros
036000 4K CG Congo
901000 1K CK Cook Islands
0AE000 4K CR Costa Rica
038000 4K CI Côte d'Ivoire
501C00 1K HR Croatia
0B0000 4K CU Cuba
4C8000 1K CY Cyprus
498000 32K CZ Czech Republic
720000 32K KP Democratic People's Republic of Korea
08C000 4K CD Democratic Republic of the Congo
458000 32K DK Denmark
098000 1K DJ Djibouti
0C4000 4K DO Dominican Republic
E84000 4K EC Ecuador
010000 32K EG Egypt
0B2000 4K SV El Salvador
042000 4K GQ Equatorial Guinea
202000 1K ER Eritrea
511000 1K EE Estonia
040000 4K ET Ethiopia
C88000 4K FJ Fiji
460000 32K FI Finland
380000 256K FR France
03E000 4K GA Gabon
09A000 4K GM Gambia
514000 1K GE Georgia
3C0000 256K DE Germany
044000 4K GH Ghana
468000 32K GR Greece
0CC000 1K GD Grenada
0B4000 4K GT Guatemala
046000 4K GN Guinea
048000 1K GW Guinea-Bissau
0B6000 4K GY Guyana
0B8000 4K HT Haiti
0BA000 4K HN Honduras
470000 32K HU Hungary
4CC000 4K IS Iceland
800000 256K IN India
8A0000 32K ID Indonesia
730000 32K IR Iran
728000 32K IQ Iraq
4CA000 4K IE Ireland
738000 32K IL Israel
300000 256K IT Italy
0BE000 4K JM Jamaica
840000 256K JP Japan
740000 32K JO Jordan
683000 1K KZ Kazakhstan
04C000 4K KE Kenya
C8E000 1K KI Kiribati
706000 4K KW Kuwait
601000 1K KG Kyrgyzstan
708000 4K LA Lao People's Democratic Republic
502C00 1K LV Latvia
748000 32K LB Lebanon
04A000 1K LS Lesotho
050000 4K LR Liberia
018000 32K LY Libya
503C00 1K LT Lithuania
4D0000 1K LU Luxembourg
054000 4K MG Madagascar
058000 4K MW Malawi
750000 32K MY Malaysia
05A000 1K MV Maldives
05C000 4K ML Mali
4D2000 4K MT Malta
900000 1K MH Marshall Islands
05E000 1K MR Mauritania
060000 1K MU Mauritius
0D0000 32K MX Mexico
681000 1K FM Micronesia
4D4000 1K MC Monaco
682000 1K MN Mongolia
516000 1K ME Montenegro
020000 32K MA Morocco
006000 4K MZ Mozambique
704000 4K MM Myanmar
201000 1K NA Namibia
C8A000 1K NR Nauru
70A000 4K NP Nepal
480000 32K NL Netherlands
C80000 32K NZ New Zealand
0C0000 4K NI Nicaragua
062000 4K NE Niger
064000 4K NG Nigeria
512000 1K MK North Macedonia
478000 32K NO Norway
70C000 1K OM Oman
760000 32K PK Pakistan
684000 1K PW Palau
0C2000 4K PA Panama
898000 4K PG Papua New Guinea
E88000 4K PY Paraguay
E8C000 4K PE Peru
758000 32K PH Philippines
488000 32K PL Poland
490000 32K PT Portugal
06A000 1K QA Qatar
718000 32K KR Republic of Korea
504C00 1K MD Republic of Moldova
4A0000 32K RO Romania
100000 1M RU Russian Federation
06E000 4K RW Rwanda
C8C000 1K LC Saint Lucia
0BC000 1K VC Saint Vincent and the Grenadines
902000 1K WS Samoa
500000 1K SM San Marino
09E000 1K ST Sao Tome and Principe
710000 32K SA Saudi Arabia
070000 4K SN Senegal
4C0000 32K RS Serbia
074000 1K SC Seychelles
076000 1K SL Sierra Leone
768000 32K SG Singapore
505C00 1K SK Slovakia
506C00 1K SI Slovenia
897000 1K SB Solomon Islands
078000 4K SO Somalia
008000 32K ZA South Africa
340000 256K ES Spain
770000 32K LK Sri Lanka
07C000 4K SD Sudan
0C8000 4K SR Suriname
07A000 1K SZ Eswatini
4A8000 32K SE Sweden
4B0000 32K CH Switzerland
778000 32K SY Syrian Arab Republic
515000 1K TJ Tajikistan
880000 32K TH Thailand
088000 4K TG Togo
C8D000 1K TO Tonga
0C6000 4K TT Trinidad and Tobago
028000 32K TN Tunisia
4B8000 32K TR Türkiye
601800 1K TM Turkmenistan
068000 4K UG Uganda
508000 32K UA Ukraine
896000 4K AE United Arab Emirates
400000 256K GB United Kingdom
080000 4K TZ United Republic of Tanzania
A00000 1M US United States
E90000 4K UY Uruguay
507C00 1K UZ Uzbekistan
C90000 1K VU Vanuatu
0D8000 32K VE Venezuela
888000 32K VN Viet Nam
890000 4K YE Yemen
08A000 4K ZM Zambia
004000 1K ZW Zimbabwe
899000 1K TW Taiwan
F00000 32K XA ICAO
F09000 1K XA ICAO
"""


def annex10_table() -> pa.Table:
    """The allocation table as Arrow: ``start``, ``finish`` (int32), ``iso2``, ``name``, sorted by start."""
    starts: list[int] = []
    finishes: list[int] = []
    iso2: list[str] = []
    names: list[str] = []
    for line in _TABLE.splitlines():
        start_hex, size, code, name = line.split(" ", 3)
        start = int(start_hex, 16)
        starts.append(start)
        finishes.append(start + _SIZE[size] - 1)
        iso2.append(code)
        names.append(name)
    table = pa.table(
        {
            "start": pa.array(starts, pa.int32()),
            "finish": pa.array(finishes, pa.int32()),
            "iso2": pa.array(iso2, pa.string()),
            "name": pa.array(names, pa.string()),
        }
    )
    return table.sort_by("start")
