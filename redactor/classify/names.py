"""Person names: Hong Kong surnames (Chinese characters and their Cantonese romanisations).

Data, not logic: the recognizers (patterns.py, pattern_data.py) build their regexes from these lists.
Surnames are the ~130 most common in Hong Kong (Traditional characters; OpenCC turns OCR's
occasional Simplified output back into Traditional before matching).
"""

from __future__ import annotations

# Single-character surnames, most common first. Characters that also start very common words
# on protest walls (光 光復, 時 時代, 自 自由, 香 香港, 齊 齊上齊落, 天 天佑) are left out on purpose:
# a slogan must not read as a name; such names are still found when labelled or with a title.
ZH_SURNAMES = (
    "陳李張黃何林吳劉蔡鄭梁謝楊許郭曾周葉羅潘鄧馮朱蕭彭胡余盧麥歐蘇袁鍾莫譚杜徐馮黎方"
    "江關簡唐鄺戴傅岑駱姚崔易魏湯賴嚴孔龔雷石沈施任丁邱呂溫柯范韓宋田鄒程孫趙馬高王勞"
    "伍容卓文區翁游伍顏凌甘祝萬鮑彭柳尹賀邵廖毛聶冼翟蔣冼蔡薛殷伍"
)
ZH_COMPOUND_SURNAMES = ("歐陽", "司徒", "上官", "諸葛", "司馬", "端木", "公孫", "東方")

# Honorifics that follow a surname in speech and on notes: 陳生, 黃小姐, 羅sir.
ZH_HONORIFICS = ("先生", "小姐", "太太", "女士", "姑娘", "生", "太", "姐", "哥", "仔", "伯", "嬸", "sir", "Sir", "SIR", "Madam")

# Cantonese (and a few Mandarin) romanisations of the surnames above.
EN_SURNAMES = (
    "Au Au-Yeung Auyeung Chan Chang Chau Cheng Cheuk Cheung Chiang Chik Chin Ching Chiu Cho Choi Chong "
    "Chow Choy Chu Chua Chuk Chung Fan Fok Fong Fu Fung Ha Hau Heung Ho Hon Hong Hsu Hu Huang Hui "
    "Hung Ip Kam Kan Kao Keung Ko Kok Kong Ku Kung Kwan Kwok Kwong Lai Lam Lau Law Lee Leung Li "
    "Liang Lim Lin Ling Liu Lo Lok Lu Lui Luk Lum Lung Ma Mak Man Mok Mui Ng Ngai Ngan Pang Poon "
    "Pun Sham Shek Shiu Shum Sin Siu So Suen Sun Sung Szeto Tai Tam Tang Tin Ting To Tong Tsang Tse "
    "Tsoi Tsui Tung Wan Wang Wong Woo Wu Yam Yan Yau Yeung Yim Yip Yiu Yu Yuen Yung Zhang Zhao Zhou"
).split()

# Hong Kong place names that read like "Surname Given": never a person on their own.
EN_PLACE_NAMES = (
    "Wong Tai Sin", "Lam Tin", "Ho Man Tin", "Lee Garden", "Kwun Tong", "Tai Po", "Tai Wai", "Sham Shui Po",
    "Tsim Sha Tsui", "Mong Kok", "Yau Ma Tei", "Lai Chi Kok", "Kwai Chung", "Tsing Yi", "Ma On Shan",
    "Tin Shui Wai", "Sheung Wan", "Wan Chai", "Chai Wan", "Siu Sai Wan", "Tung Chung", "Lo Wu", "Lok Fu",
    "Tai Koo", "Ho Tung", "Shek Kip Mei", "Fo Tan", "Tai Wo", "Tsuen Wan", "Yuen Long", "Sai Kung",
    "Tuen Mun", "Hung Hom", "Kowloon Tong", "Choi Hung", "Ngau Tau Kok", "Lam Tei", "Hong Kong",
)

# Districts and neighbourhoods in Chinese, for address lines that hold only a place name.
ZH_PLACE_NAMES = (
    "中西區 灣仔 東區 南區 油尖旺 深水埗 九龍城 黃大仙 觀塘 葵青 荃灣 屯門 元朗 北區 大埔 沙田 西貢 離島 "
    "旺角 尖沙咀 油麻地 太子 佐敦 紅磡 土瓜灣 何文田 將軍澳 天水圍 上水 粉嶺 馬鞍山 大圍 火炭 筲箕灣 "
    "柴灣 北角 鰂魚涌 銅鑼灣 跑馬地 中環 上環 西環 堅尼地城 薄扶林 香港仔 鴨脷洲 赤柱 東涌 長沙灣 "
    "石硤尾 樂富 慈雲山 鑽石山 彩虹 牛頭角 藍田 油塘 秀茂坪 葵涌 青衣 深井 屯門 大埔墟"
).split()

# The three regions, closing many address lines.
REGION_NAMES = ("Kowloon", "New Territories", "Hong Kong Island", "Hong Kong", "HK", "九龍", "新界", "香港", "港島")

# Syllables of Cantonese given names (romanised), to tell "Wong Ka-ming" from "Wong Fresh".
EN_GIVEN_SYLLABLES = set(
    "ah bing bo chak chi chin ching chiu choi chun chung fai fan fat fei fong fook fu fung ha hang hei hin "
    "hing ho hoi hon hong hou hung ka kai kam kan kar kei keung ki kin king kit ko kok kong kuen kwai kwan "
    "kwok kwong lai lam lap lei leung lik lim lin ling lok lun man mei miu ming mo mui nam ngai ngan "
    "ngok on pak pan pang pik ping po pui sai san sang sau shan shek sheung shing shu shuk si sik sin "
    "sing siu so sui suk sum sun sze tak tat tai tin ting to tong tsz tsun tung wa wah wai wan wing "
    "wun yan yat yau yee yeung yi yik yin ying yiu yu yuen yuet yuk yung tai".split()
)

# Common English given names and surnames (US/UK census tops), for names on IDs, cards and
# receipts written in Western order ("Avery Smith", "BROWN ANGEL").
EN_WESTERN_GIVEN = set(
    "james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony "
    "mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan "
    "jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander "
    "frank patrick raymond jack dennis jerry tyler aaron henry peter liam noah oliver elijah lucas mason logan "
    "ethan aiden jayden avery mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa "
    "nancy betty margaret sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah "
    "stephanie rebecca sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen "
    "samantha katherine christine debra rachel carolyn janet catherine maria heather diane ruth julie olivia "
    "joyce virginia victoria kelly lauren christina joan evelyn judith megan andrea cheryl hannah jacqueline "
    "martha gloria teresa ann sara madison frances kathryn janice jean abigail alice judy sophia grace denise "
    "amber doris marilyn danielle beverly isabella theresa diana natalie brittany charlotte marie kayla alexis "
    "lori angel hollie winnie fiona sandy kelvin carrie vincent alan tony ivan eddie wilson jackie jane"
    .split()
)
EN_WESTERN_SURNAMES = set(
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson "
    "anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis "
    "robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall "
    "rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes "
    "stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard "
    "ramos kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price "
    "alvarez castillo sanders patel myers long ross foster jimenez talbot kaufman constantine doe"
    .split()
)

# Mail providers common in Hong Kong: an address whose @ or dots OCR lost still names one.
MAIL_DOMAINS = (
    "netvigator", "biznetvigator", "hotmail", "gmail", "yahoo", "outlook", "icloud", "live", "hkbn",
    "i-cable", "ymail", "protonmail", "proton", "qq", "163", "126", "sina", "hkstar", "hknet", "msn",
)

# Characters common in Hong Kong given names. A short line "surname + these" is much more likely
# a person than "surname + anything" (黃絲帶, 林鄭 are not names): it raises the bare-line score.
ZH_GIVEN_CHARS = frozenset(
    "偉明文華志強嘉家俊傑美麗玲慧詠欣婷芷子樂浩天思穎曉敏淑秀英國建永德榮輝耀健業朗君炳恩靜康昇"
    "小大一立正誠信仁義禮智勇豪峰鋒軒宇翔晉晞澄灝霖霆雯雪霞鳳燕珊琳琪瑜瑤璇蕙蘭蓮萍芬芳芝茵菁"
    "兒妹娟娥婉嫻姿妍怡悅愛惠慈心恆源泉洪海濤潤清淇淳漢沛澤宏弘彬彥斌毅銘錦鈞鎮鴻鵬麟龍駿騰"
    "光興盛昌華晴暉曦星月月雲嵐山峻嶸坤培基堅城安寧宏宗宜家容富寶少尚展學孝孟季振揚卓志忠"
    "達遠進道賢豐勤勁力功偉佩佳儀倩健仲伯世亮仕俊保信修倫偉卿厚嘉善坤均堯梓楠樺森林柏桐桂梅"
    "凱斯漫雅珍珮璐琦瑩瑋璋琛祖祥福禎禧秋穗紅紹綺維美群羽翠聰聲育舒芯苗茹荃莉莎菲華萱蔚蕾"
    "衛詩誼諾豫貞賓超躍軍輝迪逸鍵長雄雅靖韻順頌風飛香馨駒高鵑麒升祺琴鈺潔芊蔓蓉昊晨皓浚灝樑棠"
)

# -- what the name models (ner.py) need to tell a person from a place, a shop or a slogan -----

# English places a name model (spaCy) reads as people ("Causeway Bay", "Mong Kok"): an entity that
# shares a word sequence with one of these, or with EN_PLACE_NAMES, is no person.
EN_MORE_PLACES = (
    "Causeway Bay", "Kowloon Bay", "Repulse Bay", "Clear Water Bay", "Admiralty", "Victoria Park",
    "Victoria Harbour", "Tamar Park", "Lennon Wall", "Tai Hang", "Prince Edward", "Diamond Hill",
    "Kwai Fong", "Kwai Hing", "Tsing Ma", "Tiu Keng Leng", "Hang Hau", "Po Lam", "Heng Fa Chuen",
    "Shau Kei Wan", "Sai Wan Ho", "Tai Kok Tsui", "Cheung Sha Wan", "Kowloon City", "To Kwa Wan",
    "San Po Kong", "Wong Chuk Hang", "Aberdeen", "Pok Fu Lam", "Kennedy Town", "Sai Ying Pun",
    "Fanling", "Sheung Shui", "Tai Wai", "Siu Lek Yuen", "Fo Tan", "Ma Liu Shui", "Tseung Kwan O",
)

# A final word that makes a name-shaped entity a place, a building or a business ("Tai Cheong
# Bakery", "Victoria Park", "Lam Tin Station"), not a person.
EN_NOT_PERSON_LAST = frozenset(
    "bay park wall street st road rd avenue ave lane path drive square centre center plaza building tower "
    "towers house court estate garden gardens mansion villa heights station terminal pier hall hospital clinic "
    "school college university academy church temple mosque market mall arcade bank company co ltd limited "
    "group holdings restaurant cafe café bakery kitchen bar hotel harbour harbor island hill hills valley bridge "
    "tunnel beach river shop store mart pharmacy salon studio theatre theater cinema stadium library museum "
    "police district council party association union society foundation church news daily post times press "
    "club bureau department ministry office government "
    # a document's title ("Driver License", "Identity Card")
    "license licence card passport permit certificate identity insurance member membership visa".split()
)

# Titles, ranks and slogan verbs that precede a name. Titles and ranks are dropped from a name
# entity (the rest is the name); a slogan verb opening the line makes it a campaign for a public
# figure ("Free X", "Release X"), kept readable as slogans are.
EN_TITLES = frozenset(
    "mr mrs ms miss madam dr prof sir inspector sergeant constable superintendent officer senior chief "
    "station probationary commissioner detective commander police auntie uncle ah".split()
)
EN_SLOGAN_VERBS = frozenset(
    "free save liberate release reclaim restore protect defend support remember pray stand fight thank "
    "thanks".split()
)

# A demand after a name makes the line a slogan about a public figure ("X step down", "X 下台").
# (OpenCC's s2t, which normalise() applies, writes 台 as 臺: both spellings are listed.)
NAME_DEMANDS = ("step down", "stepdown", "resign", "must go", "get out", "out!", "下台", "下臺", "落台", "落臺", "辭職",
                "問責")

# Words that introduce a person right after them (bylines, quotes, letters, form fields) or right
# before them ("X said"). A name entity next to one is someone's name even in running text.
EN_CUES_BEFORE = frozenset(
    "by said says told according reporter reporting photo photos photographer writer written editor edited "
    "editing author dear from to attn attention contact signed cc love regards thanks interviewed "
    "spokesman spokeswoman spokesperson name".split()
)
EN_CUES_AFTER = frozenset("said says told wrote added explained recalled reported".split())
# Labels of a form field that holds a person ("Contact: ...", "聯絡人：..."): the value after
# the colon is a name when it is words without digits (patterns.py, "person-field").
PERSON_FIELDS = (
    "Contact(?: person)?", "Attn", "Attention", "Signed(?: by)?", "Holder", "Card ?holder", "Applicant", "Customer",
    "Patient", "Passenger", "Guest", "Driver", "Owner", "Author", "Reporter", "Photographer", "Prepared by",
    "Approved by", "Received by", "Issued to", "Bearer", "Employee", "Tenant", "Landlord", "Recipient", "Sender",
    "聯絡人", "申請人", "持證人", "持卡人", "負責人", "收件人", "寄件人", "簽署", "經手人", "客戶", "病人", "乘客", "司機",
    "業主", "租客", "記者", "撰文", "攝影", "作者", "編輯",
)
ZH_CUES = ("記者", "撰文", "文：", "編輯", "攝影", "圖：", "受訪者", "報道", "報導", "說", "表示", "指出", "稱", "透露",
           "聯絡人", "申請人", "持證人", "負責人", "收件人", "寄件人", "簽署", "經手人", "姓名", "：", ":")
