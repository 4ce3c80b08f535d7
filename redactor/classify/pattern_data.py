"""The regex recognizers as data: :data:`PATTERNS` rows of (category, recognizer name, regex,
score, flags), and the fragments they are built from (surnames, places, dates, plate grammars,
from the lists in names.py). patterns.py compiles them and holds the recognizers that need code.
"""

from __future__ import annotations

import re

from ..types import Category
from .names import (
    EN_GIVEN_SYLLABLES,
    EN_SURNAMES,
    MAIL_DOMAINS,
    PERSON_FIELDS,
    ZH_COMPOUND_SURNAMES,
    ZH_HONORIFICS,
    ZH_PLACE_NAMES,
    ZH_SURNAMES,
)

__all__ = ["BIRTH_YEARS", "CJK", "PATTERNS", "SURN_EN_ANY", "SURN_EN_RE", "SURN_ZH_RE", "SYLLABLE_UPPER"]

_I = re.IGNORECASE

# -- data: (category, recognizer name, regex, score) -----------------------------------------

_SURN_ZH = "".join(sorted(set(ZH_SURNAMES)))
SURN_ZH_RE = f"(?:{'|'.join(ZH_COMPOUND_SURNAMES)}|[{_SURN_ZH}])"
# Title case or upper case (CHAN Tai-man on forms); the given-name parts are case-sensitive too,
# so lower-case words in a slogan ("Stand with Hong Kong") never read as names.
SURN_EN_RE = "(?:" + "|".join(sorted({v for n in EN_SURNAMES for v in (n, n.upper())}, key=len, reverse=True)) + ")"
# OCR sometimes lower-cases a first letter ("cheung Ling-ka"): accepted where the given name
# must then be Cantonese syllables to score.
SURN_EN_ANY = "(?:" + "|".join(sorted({v for n in EN_SURNAMES for v in (n, n.upper(), n.lower())},
                                      key=len, reverse=True)) + ")"
SYLLABLE_UPPER = "(?:" + "|".join(sorted((s.upper() for s in EN_GIVEN_SYLLABLES), key=len, reverse=True)) + ")"
_HONORIFIC_RE = "(?:" + "|".join(sorted(ZH_HONORIFICS, key=len, reverse=True)) + ")"
CJK = r"[\u3400-\u9fff]"

BIRTH_YEARS = r"(?:19[3-9]\d|200\d|201[0-5])"  # 1930-2015: a living adult or child, not a protest-era event
# Years 1930-2015 in Chinese numerals (一九九〇, 二〇〇八); day and month 一 to 三十一
_ZH_DIGIT = "[〇零一二三四五六七八九]"
_ZH_BIRTH_YEAR = f"(?:一九[三四五六七八九]{_ZH_DIGIT}|二[〇零][〇零]{_ZH_DIGIT}|二[〇零]一[〇零一二三四五])"
_ZH_DAY = "(?:三十一?|二?十[一二三四五六七八九]?|二十|[一二三四五六七八九])"
_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_US_STATE = (r"(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|S[CD]|"
             r"T[NX]|UT|V[AT]|W[AIVY])")
_ZH_PLACE = "(?:" + "|".join(sorted(ZH_PLACE_NAMES, key=len, reverse=True)) + ")"

# Plate grammars (the plate lines below): mainland province characters, Simplified and Traditional
# (使: embassy), and the separators OCR reads for a plate's dot or hyphen.
_CN_PROVINCE = "[京津沪滬渝冀豫云雲辽遼黑湘皖鲁魯新苏蘇浙赣贛鄂桂甘晋晉蒙陕陝吉闽閩贵貴粤粵青藏川宁寧琼瓊使]"
_PLATE_DOT = r"[·•・.:\-\s]"

PATTERNS: tuple[tuple[Category, str, str, float, int], ...] = (
    # email: the full form, then OCR-damaged forms (space around dots or @, missing dot before the TLD)
    ("email", "email", r"[\w.+-]+ ?@ ?[\w-]+(?: ?\. ?[\w-]+)+", 0.95, 0),
    ("email", "email-ocr", r"[\w.+-]+ ?@ ?[\w-]*(?:com|net|org|hk|edu)\b", 0.85, _I),
    ("email", "domain-like", r"\b[\w.]{3,}\.(?:com|net|org)(?:\.hk)?\b", 0.6, _I),
    # OCR lost the @ and/or the dot before the TLD, but a mail provider's name is still there:
    # "choiwaikwoknetvigatorcom", "kbchan hotmail.com"
    ("email", "mail-domain", r"\b[\w.+-]{2,}\s?@?\s?(?:" + "|".join(MAIL_DOMAINS) + r")\s?\.?\s?(?:com|net|hk)\b", 0.8, _I),
    # handles: @name not inside an email, and labelled platforms
    ("handle", "at-handle", r"(?<![\w.@])@ ?[A-Za-z0-9_][A-Za-z0-9_.]{1,29}(?![\w@]*\.(?:com|net|org)\b)", 0.9, 0),
    ("handle", "platform", r"\b(?:IG|FB|TG|Instagram|Facebook|Telegram|Twitter|Threads|Signal|WeChat|Weibo|"
                           r"LINE|Snapchat|TikTok)\b\s*[:：@]?\s*\S?[\w.][\w., ]{1,40}", 0.9, _I),
    # OCR dropped the space or colon after a long platform name: "Telegramszeto.h", "Instagram@kw"
    ("handle", "platform-glued", r"\b(?:Instagram|Facebook|Telegram|Twitter|WeChat|Snapchat|TikTok)(?=[\w@.])"
                                 r"[\w@.][\w.]{2,40}", 0.8, _I),
    ("handle", "platform-zh", r"(?:微博|微信|臉書|連登)\s*[:：]?\s*\S{2,}", 0.85, 0),
    # police ranks and numbers (role)
    ("role", "rank-zh", r"(?:高級|總|見習|警署|助理|署理)?(?:警員|警長|督察|警司|處長|探員|警務人員|警官)", 0.85, 0),
    # a station or district command named by its place ("旺角警署", "東區警區"); "包圍警察局" is not one
    ("role", "station-zh", rf"(?:{_ZH_PLACE}|[東西南北中]區?|[\u3400-\u9fff]{{1,3}}區)(?:警區|警署|警察局|分區)", 0.8, 0),
    ("role", "number-zh", r"(?:編號|警號|[編编精]?號碼?|[編编])\s*[:：]?\s*\d{4,}", 0.85, 0),
    ("role", "rank-en", r"\b(?:Constable|Sergeant|Inspector|Superintendent|Commissioner|Police\s+Officer|"
                        r"Detective|Commander)\b", 0.85, _I),
    # rank abbreviation + number, any case (OCR: "Ip 606010"); U[I1l]: OCR reads UI's I as 1 or l
    ("role", "rank-number-en", r"\b(?:PC|WPC|SPC|SGT|SSGT|U[I1l]|IP|SIP|CIP|PI|SP|SSP|CSP|DPC)\s?\d{3,6}\b", 0.85, _I),
    # a bare 5-6 digit number with at most a misread character or two before it: a police number
    # whose "編號" OCR garbled (weak: lifted on a personal note only)
    ("role", "bare-number", r"^\s*[^\d\s]{0,2}\s*\d{5,6}\s*$", 0.4, 0),
    # HK addresses
    ("address", "street-no-zh", CJK + r"{1,8}(?:道|街|路|里|巷|徑|坊|圍)\s*\d+\s*[-至]?\s*\d*\s*號", 0.9, 0),
    ("address", "floor-flat-zh", r"\d+\s*(?:樓|字樓|/F)\s*[A-Z0-9]{0,4}\s*(?:室|座)?|[A-Z0-9]{1,4}\s*室", 0.8, 0),
    ("address", "estate-zh", CJK + r"{1,6}(?:邨|苑|花園|大廈|中心|閣|山莊|廣場)\s*\S{0,6}(?:樓|座|室)", 0.85, 0),
    ("address", "district-zh", r"(?:香港|九龍|新界)" + CJK + r"{2,8}(?:道|街|路|邨|村|苑)", 0.8, 0),
    ("address", "flat-en", r"\b(?:Flat|Rm|Unit|Suite|Blk|Block|Tower)\.?\s*[A-Z0-9]{1,5}\b|\bRoom\s+\d{3,5}\b", 0.8, _I),
    ("address", "floor-en", r"\b\d{1,3}\s*/\s*F\b|\b\d{1,3}(?:st|nd|rd|th)\s+Floor\b|\bG/F\b", 0.85, _I),
    ("address", "street-en", r"\b\d{1,4}[A-Z]?,?\s+(?:[A-Z][a-z']+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|"
                             r"Path|Terrace|Drive|Square|Circuit|Crescent)\b", 0.9, 0),
    ("address", "building-en", r"\b(?:[A-Z][a-z]+\s+){1,3}(?:Estate|Court|Gardens?|House|Building|Mansion|"
                               r"Villa|Heights|Towers?|Plaza|Terrace)\b", 0.6, 0),
    # birthdays: labelled dates, and full dates whose year is a plausible adult birth year
    # (OCR reads DOB's O as a zero and its B as an 8: "D0B", "DO8")
    ("birthday", "dob-label", r"(?:\bD[O0][B8]\b|\bD\.O\.B\.?|\bBorn\b|\bBirthday\b|\bDate\s+of\s+Birth\b|"
                              r"\bBirth\s?date\b|\bb\.\s*(?=\d)|生日|出生(?:日期)?|生於|出世|誕生)"
                              r"\s*(?:[:：]\s*\S.*|(?=.*\d)\S.*)", 0.95, _I),  # "生日快樂" has no date: a wish
    # A full date (day, month and a 4-digit year) whose year is a plausible birth year,
    # BIRTH_YEARS (1930-2015), is a birthday even unlabelled. Years after 2015 are event dates
    # (2019.6.12, 2019年6月12日) and dates without a year (6.12, 7.21) are anniversaries: both
    # stay readable unless a label (DOB, 生日, 出生日期) says otherwise.
    ("birthday", "date-dmy", rf"(?<![\d.])\d{{1,2}}\s*[/.-]\s*\d{{1,2}}\s*[/.-]\s*{BIRTH_YEARS}(?![\d.])", 0.7, 0),
    ("birthday", "date-ymd", rf"(?<![\d.]){BIRTH_YEARS}\s*[/.-]\s*\d{{1,2}}\s*[/.-]\s*\d{{1,2}}(?![\d.])", 0.7, 0),
    ("birthday", "date-zh", rf"{BIRTH_YEARS}\s*年\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*[日號])?", 0.75, 0),
    ("birthday", "date-zh-numerals", rf"{_ZH_BIRTH_YEAR}年{_ZH_DAY}月(?:{_ZH_DAY}[日號])?", 0.75, 0),
    ("birthday", "date-en", rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s*(?:of\s+)?{_MONTH}\.?,?\s*{BIRTH_YEARS}\b"
                            rf"|\b{_MONTH}\.?\s*\d{{1,2}}(?:st|nd|rd|th)?,?\s*{BIRTH_YEARS}\b", 0.7, _I),
    # "3月5日生", "1990年3月5日出生", "90年3月5日生": a date followed by "born" is a birthday
    # whatever its year ("生效" takes effect, "生活" is life: not births)
    ("birthday", "date-zh-born", r"(?:\d{2,4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日號]\s*出?生(?![效活意產命存])", 0.9, 0),
    # a two-digit year ("05-03-90", "5/3/90"): one separator throughout, the year a birth year
    # (30-99, 00-15). Also how slogans write anniversaries ("4/6/89"), so weak: hidden on a
    # personal note (beside a name, a phone), kept on a slogan.
    # a full numeric date whose year OCR misread ("1594.01-07" for 1994-01-07; separators mixed):
    # month and day valid, the year no event year (2016 on). Weak, as above.
    ("birthday", "date-misread-year", r"(?<![\d.:/-])(?!20(?:1[6-9]|[2-9]\d))\d{4}\s*[/.-]\s*(?:0?[1-9]|1[0-2])\s*[/.-]"
                                      r"\s*(?:0?[1-9]|[12]\d|3[01])(?![\d.:/-])", 0.45, 0),
    ("birthday", "date-dmy-short", r"(?<![\d.:/-])\d{1,2}\s*([/.-])\s*\d{1,2}\s*\1\s*(?:[3-9]\d|0\d|1[0-5])(?![\d.:/-])",
     0.45, 0),
    # plates written as text (a whole line, or labelled)
    ("plate", "hk-plate", r"^\s*(?!(?:PC|SP|SGT)\s?\d)[A-HJ-NPR-Z]{1,2}\s?\d{1,4}\s*$", 0.8, 0),
    ("plate", "plate-label", r"(?:車牌(?:號碼)?|Plate|Reg\.?\s*No\.?)\s*[:：.]?\s*[A-Z0-9][A-Z0-9 -]{1,8}", 0.9, _I),
    # mainland plates: a province character, a letter, then five characters (six on green
    # new-energy plates), or four and a suffix (港 澳 cross-border, 警 police, 学 coach, 挂
    # trailer, 领 consulate); a dot or space may part the letter from the rest. Lines are
    # normalised to Traditional characters (粤 -> 粵); both forms are listed all the same.
    ("plate", "mainland-plate", rf"^\s*{_CN_PROVINCE}\s?[A-Z]\s?{_PLATE_DOT}?\s?"
                                rf"(?:[A-Z0-9]{{5,6}}|[A-Z0-9]{{4}}\s?[港澳警学學挂掛领領])\s*$", 0.9, 0),
    # the same with the province character lost (small, or under a frame): a letter, a dot and
    # four characters with a suffix is still a plate ("Z·A123港")
    ("plate", "mainland-plate", rf"^\s*[A-Z]\s?{_PLATE_DOT}\s?[A-Z0-9]{{4}}\s?[港澳警学學挂掛领領]\s*$", 0.8, 0),
    # armed police: WJ, a province character or a two-digit code, four or five digits, and on
    # some a service character (消 fire, 边 border, 通 transport, 森 forest, 金 gold, 警, 电 power)
    ("plate", "wj-plate", rf"^\s*WJ\s?(?:{_CN_PROVINCE}|\d{{2}})?\s?{_PLATE_DOT}?\s?\d{{4,5}}\s?"
                          r"[消边邊通森金警电電]?\s*$", 0.9, 0),
    # Macau: one or two letters (M, MA...), then two pairs of digits, parted ("MA-12-34", "M-12-34")
    ("plate", "macau-plate", rf"^\s*[A-Z]{{1,2}}\s?{_PLATE_DOT}\s?\d{{2}}\s?{_PLATE_DOT}\s?\d{{2}}\s*$", 0.85, 0),
    # other countries' plates: 5-10 capitals and digits in up to three groups, at least one
    # digit, and letters that are not all digit look-alikes (so "2O19.6.12" and "l0O" stay dates
    # and numbers). Groups are parted by a space or any one symbol: a state's emblem, a seal or a
    # hyphen is read as ":", "=", "+", "*" or "-" ("CGT+2069", "MJ3=R1V", "UH1-F0F"). With one
    # digit only, no run of four letters or more ("B1 EXIT", "5G PHONE": signs, not plates); never
    # a run of five letters (a word: "24 HR ACCESS"; plates hold at most four letters in a row).
    ("plate", "generic-plate", r"^\s*(?!(?:W?PC|SPC|S?SGT|U[I1l]|S?IP|CIP|PI|S?SP|CSP|DPC)\s?\d)(?=[A-Z0-9 ·:.=+*★~-]{5,10}\s*$)(?=.*\d)(?!.*[A-Z]{5})(?=(?:.*\d){2}|(?!.*[A-Z]{4}))(?=.*[AC-HJ-NPR-Y])[A-Z0-9]+(?:[ ·:.=+*★~-][A-Z0-9]+){0,2}\s*$",
     0.55, 0),
    # international forms seen on IDs, cards and receipts
    ("phone", "grouped-digits", r"(?<![\w./-])\+?\(?\d{2,4}\)?[ -]\d{3,4}[ -]?\d{3,4}(?![\w./-])", 0.6, 0),
    ("phone", "phone-label-intl", r"(?:\bTEL\b|\bH/?P\b|\bMOB\b|\bCell\b)\s*[:：.]?\s*\+?[\d(][\d\s().-]{6,}", 0.85, _I),
    ("id", "mrz", r"[A-Z0-9<]{2,}<<[A-Z0-9<]{10,}", 0.95, 0),
    # a passport's second MRZ line (TD3) without filler: number, check, nationality, birth date,
    # check, sex, expiry, check, personal number, checks
    ("id", "mrz-td3", r"[A-Z0-9<]{9}\d[A-Z<]{3}\d{6}\d[MFX<]\d{6}\d[A-Z0-9<]{14}[\d<]\d", 0.95, 0),
    ("id", "long-number", r"\b[A-Z]{0,4}[ #:-]?\d{9,}\b", 0.6, 0),
    # a line that is nothing but 7 digits identifies something: an all-digit plate (US "1365847"),
    # an account, a local phone number; slogans and dates carry words or separators. (8 digits
    # are a Hong Kong phone number's shape, found as a phone; 5-6 are "bare-number" above.)
    ("id", "bare-7-digits", r"^\s*\d{7}\s*$", 0.55, 0),
    ("id", "licence-number", r"(?=[A-Z0-9#]*\d)(?=[A-Z0-9#]*[A-Z][A-Z0-9#]*[A-Z])\b[A-Z0-9]{0,4}#?[A-Z0-9]{10,}\b", 0.6, 0),
    ("id", "id-label", r"\b(?:LIC|DL|ID|License|Licence|Passport)\s*(?:#|No\.?|Number)\s*[:：]?\s*[A-Z0-9-]{5,}", 0.9, _I),
    ("address", "uk-postcode", r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", 0.8, 0),
    ("address", "us-state-zip", rf"\b{_US_STATE}\s+\d{{5}}(?:-\d{{4}})?\b", 0.8, 0),
    ("address", "street-upper", r"\b\d{1,5}\s+(?:[A-Z]+\s+){1,3}(?:STREET|ST|ROAD|RD|AVENUE|AVE|LANE|DRIVE|BLVD|JALAN)\b",
     0.85, 0),
    ("address", "malay", r"\b(?:JALAN|JLN|TAMAN|LORONG|LRG|KAMPUNG|PERSIARAN)\b", 0.8, _I),
    ("address", "postcode-city", r"\b\d{5}\s+[A-Z]{3,}(?:\s+[A-Z]{3,})?\b", 0.6, 0),
    # Australian state + postcode ("Sydney NSW 2000"), Canadian postcode ("K1A 0B1")
    ("address", "au-state-postcode", r"\b(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+\d{4}\b", 0.8, 0),
    ("address", "ca-postcode", r"\b[ABCEGHJ-NPRSTVXY]\d[A-Z]\s?\d[A-Z]\d\b", 0.75, 0),
    # a street named without its number ("Kwong Wah Street"): a street sign as often as an address,
    # so weak alone; hidden on a personal note or as the second line of an address
    ("address", "street-name-en", r"\b(?:[A-Z][a-z]+\s+){1,3}(?:Street|Road|Avenue|Lane|Drive|Boulevard|Blvd)\b", 0.45, 0),
    # a clear label followed by a value: the value is that category however badly OCR read it
    ("phone", "phone-label-value", r"(?:電話|手機|手提|聯絡|Tel|Phone|Mobile|WhatsApp)\s*[:：.]?\s*\+?[\d(][\d\s().,-]{5,}",
     0.85, _I),
    ("email", "email-label-value", r"(?:電郵|郵箱|\bE-?mail\b)\s*[:：.]?\s*\S{5,}", 0.85, _I),
    # names: labelled, with a title or honorific, or shaped like a name
    ("name", "name-label", r"(?:姓名|名字|\bName\b|\bSurname\b)\s*[:：]?\s*\S.*", 0.9, _I),
    # a person's form field, value after a colon: words without digits ("Contact: Siobhan Kelly")
    ("name", "person-field", r"(?:(?<![A-Za-z])(?:" + "|".join(PERSON_FIELDS) + r")\.?)\s*[:：]\s*"
                             r"[A-Za-z\u3400-\u9fff][A-Za-z\u3400-\u9fff .'’-]{1,40}$", 0.8, _I),
    ("name", "title-en", r"\b(?:Mr|Mrs|Ms|Miss|Madam|Dr)\.?\s+[A-Z][a-z]+(?:[- ][A-Z]?[a-z]+)*", 0.85, 0),
    ("name", "honorific-zh", SURN_ZH_RE + r"\s?" + _HONORIFIC_RE, 0.85, 0),
    ("name", "honorific-any", r"(?<!" + CJK + r")" + CJK + r"{1,2}\s?(?:先生|小姐|太太|女士|sir|Sir|SIR)(?!" + CJK + r")",
     0.6, 0),
)
