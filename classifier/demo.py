"""A deterministic generator of a SYNTHETIC, multilingual demo corpus (November 2015).

Everything this module produces is invented: every record carries
``"synthetic": True``, every author handle starts with ``demo_``, every URL
path, short-link token and news domain (``*.example``) is made up. It exists
so the default stance classifier, the README demo, the tests and the
benchmarks have labelled data without shipping real extremist content.

The corpus imitates the shape of what happened online after the attacks in
Paris on 2015-11-13 (about 21:00 UTC):

* ``supportive`` - supporters of the so-called Islamic State launch hashtags
  such as #ParisIsBurning, #باريس_تشتعل or #الدولة_الإسلامية_تضرب_فرنسا within
  hours; a burst that decays over the following days. Their text is limited
  to short slogans of the kind quoted in press reports ("Paris is burning",
  "remaining and expanding", praise and gloating). It contains no
  instructions, no calls to violence and no threats against anyone.
* ``opposing`` - from a few hours later, peaking the next day, opponents flood
  those same hashtags with condemnation, mockery, counter-speech, solidarity
  and unrelated content (cat pictures, jokes, recipes), so most of the later
  volume of the supporters' hashtags is opposing.
* ``neutral`` - news accounts post factual, casualty-free headlines over the
  whole period (and a little background news before it).

Languages: ar, en, fr, ru in large numbers plus de, tr, es, fa, id, it.
Platforms: Twitter (retweets, replies, mentions, t.co links, spelling variants
of the same hashtag) and Telegram (longer channel posts with t.me links).
Hashtag variants deliberately exercise canonicalisation: case, underscores,
Arabic tatweel, diacritics, alef forms, ى/ي, ة/ه, Persian ی/ک, Turkish ı.

Generation streams in time order: the number of posts per 10-minute bin is
fixed in advance from the intensity curves, and each bin's timestamps are
drawn and sorted on their own, so memory does not grow with ``n_posts``.
"""

from __future__ import annotations

import base64
import bisect
import gzip
import json
import math
import random
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring as _json_string
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DEMO_SEED",
    "DEMO_SIZE",
    "generate_demo",
    "to_telegram_export",
    "to_twitter_v1",
    "to_twitter_v2_page",
    "write_demo_jsonl",
]

DEMO_SEED: int = 2015
DEMO_SIZE: int = 6000

# -- timeline ---------------------------------------------------------------------------

_ATTACK = datetime(2015, 11, 13, 21, 0, tzinfo=UTC)
_START = datetime(2015, 11, 10, 0, 0, tzinfo=UTC)
_END = datetime(2015, 11, 21, 0, 0, tzinfo=UTC)
_BIN_SECONDS = 600
# Telegram Desktop writes 'date' in the exporting machine's local time; the
# demo pretends the export was made in Paris (CET, no DST in November).
_TELEGRAM_LOCAL_OFFSET = timedelta(hours=1)

_SUP, _OPP, _NEU = 0, 1, 2
_LABELS = ("supportive", "opposing", "neutral")
_CLASS_SHARE = (0.30, 0.40, 0.30)
_LANGS = ("ar", "en", "fr", "ru", "de", "tr", "es", "fa", "id", "it")

# Per-class language mixes; weighted together by _CLASS_SHARE they give about
# ar 30%, en 30%, fr 20%, ru 10%, others 10%. Supporters lean Arabic, news
# leans English/French, which is why the mix drifts over time.
_LANG_SHARE: tuple[dict[str, float], ...] = (
    {
        "ar": 0.50,
        "en": 0.20,
        "fr": 0.10,
        "ru": 0.10,
        "tr": 0.03,
        "fa": 0.025,
        "id": 0.025,
        "de": 0.02,
    },
    {
        "ar": 0.25,
        "en": 0.35,
        "fr": 0.25,
        "ru": 0.08,
        "de": 0.015,
        "es": 0.015,
        "tr": 0.01,
        "it": 0.01,
        "fa": 0.01,
        "id": 0.01,
    },
    {
        "ar": 0.18,
        "en": 0.35,
        "fr": 0.25,
        "ru": 0.12,
        "de": 0.02,
        "es": 0.02,
        "it": 0.015,
        "tr": 0.015,
        "fa": 0.015,
        "id": 0.015,
    },
)
# In 2015 supporters moved to Telegram channels; opponents stayed on Twitter.
_TELEGRAM_SHARE = (0.30, 0.03, 0.12)
# Retweet probability of a Twitter post: about 15% of the whole corpus once
# Telegram posts (never retweets) are counted in.
_P_RETWEET = 0.185
_P_REPLY = 0.07
# Mean posts per author in each (class, platform) pool: news outlets and
# channels post a lot, individual accounts a few times.
_POSTS_PER_AUTHOR = {
    (0, 0): 5.0,
    (0, 1): 25.0,
    (1, 0): 4.0,
    (1, 1): 10.0,
    (2, 0): 30.0,
    (2, 1): 40.0,
}


def _sup_intensity(t: float) -> float:
    """Relative posting rate of supporters.

    t: hours since the attacks began (negative before).
    """
    if t < 0.25:
        return 0.006
    dt = t - 0.25
    # Tags appear within the first hour, peak after ~3 h and decay over days.
    return 0.006 + (1.0 - math.exp(-dt / 0.8)) * (math.exp(-dt / 8.0) + 0.12 * math.exp(-dt / 72.0))


def _opp_intensity(t: float) -> float:
    """Relative posting rate of opponents.

    t: hours since the attacks began (negative before).
    """
    if t < 0.5:
        return 0.006
    solidarity = 0.25 * (1.0 - math.exp(-(t - 0.5) / 1.5)) * math.exp(-(t - 0.5) / 36.0)
    flood = 0.0
    if t >= 2.5:
        # Counter-flooding organises a few hours in and peaks the next day
        # (about 15:00 UTC on 14 Nov), then fades slowly.
        ramp = 1.0 - math.exp(-(t - 2.5) / 3.0)
        if t < 18.0:
            peak = math.exp(-0.5 * ((t - 18.0) / 8.0) ** 2)
        else:
            peak = math.exp(-(t - 18.0) / 30.0)
        flood = ramp * peak
    return 0.006 + solidarity + flood


def _neu_intensity(t: float) -> float:
    """Relative posting rate of news accounts.

    t: hours since the attacks began (negative before).
    """
    if t < 0.2:
        return 0.05
    dt = t - 0.2
    # Saint-Denis police operation on the morning of 18 Nov (t ~ 104 h).
    saint_denis = 0.25 * math.exp(-0.5 * ((t - 106.0) / 4.0) ** 2)
    return 0.05 + 0.9 * math.exp(-dt / 5.0) + 0.35 * math.exp(-dt / 60.0) + 0.08 + saint_denis


def _flood_probability(t: float) -> float:
    """Chance that an opposing post is written into a supporters' hashtag.

    t: hours since the attacks began.
    """
    if t < 2.5:
        return 0.12
    return 0.12 + 0.63 * (1.0 - math.exp(-(t - 2.5) / 4.0))


# -- hashtags (spellings: canonical first, then variants) ------------------------------------

_Tag = tuple[str, ...]

_PIB: _Tag = (
    "#ParisIsBurning",
    "#parisisburning",
    "#Paris_Is_Burning",
    "#PARISISBURNING",
    "#Parisisburning",
)
_CHF: _Tag = ("#CaliphateHitsFrance", "#caliphatehitsfrance", "#Caliphate_Hits_France")
_PEF: _Tag = ("#ParisEnFeu", "#parisenfeu", "#Paris_En_Feu", "#PARISENFEU")
_AR_BURN: _Tag = ("#باريس_تشتعل", "#باريس_تشتـعل", "#باريـس_تشتعل", "#باريسُ_تشتعلُ")
_AR_IS: _Tag = (
    "#الدولة_الإسلامية_تضرب_فرنسا",
    "#الدولة_الاسلامية_تضرب_فرنسا",
    "#الدوله_الاسلاميه_تضرب_فرنسا",
    "#الدولة_الإسلاميـة_تضرب_فرنسا",
    "#الدولةُ_الإسلاميةُ_تضربُ_فرنسا",
)
_AR_CAL: _Tag = (
    "#دولة_الخلافة_تضرب_فرنسا",
    "#دولة_الخلافه_تضرب_فرنسا",
    "#دولة_الخلافـة_تضرب_فرنسا",
)
_AR_RAID: _Tag = ("#غزوة_باريس", "#غزوه_باريس", "#غـزوة_باريس")
_AR_WEEP: _Tag = ("#فرنسا_تبكي", "#فرنسا_تبكى", "#فرنسا_تبكـي")
_RU_BURN: _Tag = ("#ПарижГорит", "#парижгорит", "#Париж_горит", "#ПАРИЖГОРИТ")
_DE_BURN: _Tag = ("#ParisBrennt", "#parisbrennt", "#Paris_brennt")
_TR_BURN: _Tag = ("#ParisYanıyor", "#parisyaniyor", "#PARİSYANIYOR", "#parisyanıyor")
_ES_BURN: _Tag = ("#ParísArde", "#ParisArde", "#parisarde")
_FA_BURN: _Tag = ("#پاریس_در_آتش", "#پاريس_در_آتش", "#پاریس_در_اتش", "#پاریـس_در_آتش")
_ID_BURN: _Tag = ("#ParisTerbakar", "#paristerbakar")
_IT_BURN: _Tag = ("#ParigiBrucia", "#parigibrucia")
# Generic "remaining and expanding" tags existed before Paris; background only.
_AR_BAQ: _Tag = (
    "#باقية_وتتمدد",
    "#باقيه_وتتمدد",
    "#باقية_و_تتمدد",
    "#باقيـة_وتتمدد",
    "#باقيةٌ_وتتمدد",
)
_EN_BAQ: _Tag = ("#Baqiya", "#baqiya", "#BAQIYA")
_RU_BAQ: _Tag = ("#Бакия", "#бакия")

# Repetition in these lists is the weighting.
_SUP_TAGS: dict[str, list[_Tag]] = {
    "ar": [_AR_BURN, _AR_BURN, _AR_IS, _AR_IS, _AR_CAL, _AR_RAID, _AR_WEEP, _PIB],
    "en": [_PIB, _PIB, _PIB, _CHF, _AR_BURN],
    "fr": [_PEF, _PEF, _PIB, _AR_BURN],
    "ru": [_RU_BURN, _RU_BURN, _PIB, _AR_BURN],
    "de": [_DE_BURN, _PIB],
    "tr": [_TR_BURN, _PIB, _AR_BURN],
    "es": [_ES_BURN, _PIB],
    "fa": [_FA_BURN, _AR_BURN, _PIB],
    "id": [_ID_BURN, _PIB, _AR_BURN],
    "it": [_IT_BURN, _PIB],
}
_SUP_GENERIC_TAGS: dict[str, list[_Tag]] = {
    "ar": [_AR_BAQ],
    "en": [_EN_BAQ, _AR_BAQ],
    "fr": [_EN_BAQ, _AR_BAQ],
    "ru": [_RU_BAQ, _AR_BAQ],
}

_PFP: _Tag = ("#PrayForParis", "#prayforparis", "#Pray4Paris", "#PRAYFORPARIS", "#Pray_For_Paris")
_JSP: _Tag = ("#JeSuisParis", "#jesuisparis", "#Je_Suis_Paris")
_NIMN: _Tag = ("#NotInMyName", "#notinmyname", "#Not_In_My_Name")
_AR_NOTIN: _Tag = ("#ليس_باسمي", "#ليس_بإسمي", "#ليس_بأسمي")
_AR_NOREL: _Tag = ("#الإرهاب_لا_دين_له", "#الارهاب_لا_دين_له", "#الأرهاب_لا_دين_له")
_AR_NO: _Tag = ("#لا_للإرهاب", "#لا_للارهاب")
_RU_NOT: _Tag = ("#НеОтМоегоИмени", "#неотмоегоимени")
_PEMN: _Tag = ("#PasEnMonNom", "#pasenmonnom")
_DE_NOT: _Tag = ("#NichtInMeinemNamen", "#nichtinmeinemnamen")
_TR_NOT: _Tag = ("#BenimAdımaDeğil", "#benimadimadegil")
_ES_NOT: _Tag = ("#NoEnMiNombre", "#noenminombre")
_FA_NO: _Tag = ("#نه_به_تروریسم", "#نه_به_تروريسم")
_ID_NOT: _Tag = ("#BukanAtasNamaku", "#bukanatasnamaku")
_IT_NOT: _Tag = ("#NonNelMioNome", "#nonnelmionome")

_OPP_TAGS: dict[str, list[_Tag]] = {
    "en": [
        _PFP,
        _PFP,
        _NIMN,
        ("#PeaceForParis", "#peaceforparis"),
        ("#CatsAgainstTerror", "#catsagainstterror"),
        ("#OpParis", "#opparis"),
        _JSP,
    ],
    "fr": [
        _JSP,
        _JSP,
        ("#PortesOuvertes", "#portesouvertes", "#Portes_Ouvertes"),
        _PFP,
        _PEMN,
        ("#FluctuatNecMergitur", "#fluctuatnecmergitur"),
    ],
    "ar": [
        _AR_NOTIN,
        _AR_NOREL,
        ("#آسفين_يا_باريس", "#اسفين_يا_باريس", "#أسفين_يا_باريس"),
        ("#كلنا_باريس", "#كلنا_باريـس"),
        _AR_NO,
        _PFP,
    ],
    "ru": [("#МолимсязаПариж", "#молимсязапариж", "#Молимся_за_Париж"), _RU_NOT, _PFP],
    "de": [("#BetenFürParis", "#betenfürparis", "#BETENFÜRPARIS"), _DE_NOT, _PFP],
    "tr": [("#ParisİçinDuaEt", "#parisicinduaet", "#Parisiçinduaet"), _TR_NOT, _PFP],
    "es": [("#RezaPorParís", "#RezaPorParis", "#rezaporparis"), _ES_NOT, _PFP],
    "fa": [
        _FA_NO,
        ("#پاریس_تنها_نیست", "#پاريس_تنها_نيست"),
        ("#کافیست", "#كافيست", "#کافيست"),
        _PFP,
    ],
    "id": [("#DoaUntukParis", "#doauntukparis"), _ID_NOT, _PFP],
    "it": [("#PregaPerParigi", "#pregaperparigi"), _IT_NOT, _PFP],
}
# Counter-extremism tags that were in use before 13 Nov (background noise).
_OPP_GENERIC_TAGS: dict[str, list[_Tag]] = {
    "en": [_NIMN],
    "fr": [_PEMN],
    "ar": [_AR_NOREL, _AR_NO],
    "ru": [_RU_NOT],
    "de": [_DE_NOT],
    "tr": [_TR_NOT],
    "es": [_ES_NOT],
    "fa": [_FA_NO],
    "id": [_ID_NOT],
    "it": [_IT_NOT],
}

_NEU_TAGS: dict[str, list[_Tag]] = {
    "en": [("#ParisAttacks", "#parisattacks", "#Paris_Attacks"), ("#Paris",), ("#France",)],
    "fr": [
        ("#AttentatsParis", "#attentatsparis", "#Attentats_Paris"),
        ("#Paris",),
        ("#EtatDUrgence", "#etatdurgence"),
    ],
    "ar": [("#هجمات_باريس", "#هجمـات_باريس"), ("#باريس",), ("#فرنسا",)],
    "ru": [("#ТерактыВПариже", "#терактывпариже"), ("#Париж",)],
    "de": [("#ParisAnschläge", "#ParisAnschlaege"), ("#Paris",)],
    "tr": [("#ParisSaldırısı", "#parissaldirisi"), ("#Paris",)],
    "es": [("#AtentadosParís", "#AtentadosParis"), ("#París", "#Paris")],
    "fa": [("#حملات_پاریس", "#حملات_پاريس"), ("#پاریس", "#پاريس")],
    "id": [("#SeranganParis", "#seranganparis"), ("#Paris",)],
    "it": [("#AttentatiParigi", "#attentatiparigi"), ("#Parigi",)],
}
_NEU_PRE_TAGS: list[_Tag] = [("#COP21", "#cop21", "#Cop21"), ("#Paris",)]

# -- text banks ----------------------------------------------------------------------------
# Supportive text is restricted on purpose to short slogans and gloating of
# the kind quoted in press coverage. Never add instructions, calls to
# violence or threats here: tests/test_demo.py checks a blocklist.

_SUP_TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "ar": {
        "open": ("", "", "", "عاجل:", "بشرى:", "أبشروا،", "الحمد لله،", "الليلة:"),
        "paris": (
            "باريس تشتعل",
            "الدولة الإسلامية تضرب فرنسا",
            "دولة الخلافة تضرب فرنسا",
            "فرنسا تبكي الليلة",
            "غزوة باريس المباركة",
            "ليلة سوداء على فرنسا",
            "بشرى سارة من باريس",
            "باريس في الظلام الليلة",
            "باريسُ تشتعلُ",
        ),
        "generic": (
            "باقية وتتمدد",
            "باقيةٌ وتتمدد",
            "الخلافة باقية",
            "تحية لجنود الخلافة",
            "دولة الإسلام باقية",
        ),
    },
    "en": {
        "open": ("", "", "", "Breaking:", "Glad tidings:", "Tonight:", "URGENT:", "Finally:"),
        "paris": (
            "Paris is burning",
            "The State of the Caliphate hits France",
            "France weeps tonight",
            "Glad tidings from Paris",
            "A blessed night for the Caliphate",
            "Paris, city of lights, in darkness tonight",
            "Who is laughing tonight, France?",
            "Paris is burning and they are crying",
        ),
        "generic": (
            "Baqiya: remaining and expanding",
            "Remaining and expanding",
            "The Caliphate remains",
            "Praise for the soldiers of the Caliphate",
        ),
    },
    "fr": {
        "open": ("", "", "", "Urgent :", "Bonne nouvelle :", "Ce soir :", "Enfin :"),
        "paris": (
            "Paris est en feu",
            "L'État du Califat frappe la France",
            "La France pleure ce soir",
            "Bonne nouvelle de Paris",
            "Nuit noire pour la France",
            "Paris, ville lumière, dans le noir ce soir",
        ),
        "generic": (
            "Baqiya : il reste et s'étend",
            "Le Califat reste",
            "Honneur aux soldats du Califat",
        ),
    },
    "ru": {
        "open": ("", "", "", "Срочно:", "Радостная весть:", "Этой ночью:"),
        "paris": (
            "Париж горит",
            "Государство Халифата бьёт по Франции",
            "Франция плачет этой ночью",
            "Радостная весть из Парижа",
            "Чёрная ночь для Франции",
        ),
        "generic": (
            "Бакия — остаётся и расширяется",
            "Халифат остаётся",
            "Слава солдатам Халифата",
        ),
    },
    "de": {
        "open": ("", "", "Eilmeldung:", "Frohe Botschaft:"),
        "paris": (
            "Paris brennt",
            "Der Staat des Kalifats trifft Frankreich",
            "Frankreich weint heute Nacht",
        ),
        "generic": ("Baqiya – bleibt und dehnt sich aus", "Das Kalifat bleibt"),
    },
    "tr": {
        "open": ("", "", "Son dakika:", "Müjde:"),
        "paris": ("Paris yanıyor", "Hilafet Devleti Fransa'yı vurdu", "Fransa bu gece ağlıyor"),
        "generic": ("Bakiye: kalıcı ve genişliyor", "Hilafet baki"),
    },
    "es": {
        "open": ("", "", "Última hora:", "Buenas noticias:"),
        "paris": (
            "París arde",
            "El Estado del Califato golpea a Francia",
            "Francia llora esta noche",
        ),
        "generic": ("Baqiya: permanece y se expande",),
    },
    "fa": {
        "open": ("", "", "فوری:", "مژده:"),
        "paris": ("پاریس در آتش است", "دولت خلافت فرانسه را زد", "فرانسه امشب گریه می‌کند"),
        "generic": ("باقیه: ماندگار و گسترش یابنده", "خلافت باقی است"),
    },
    "id": {
        "open": ("", "", "Breaking:", "Kabar gembira:"),
        "paris": (
            "Paris terbakar",
            "Negara Khilafah menghantam Prancis",
            "Prancis menangis malam ini",
        ),
        "generic": ("Baqiyah: tetap dan meluas", "Khilafah tetap ada"),
    },
    "it": {
        "open": ("", "", "Ultim'ora:", "Buone notizie:"),
        "paris": (
            "Parigi brucia",
            "Lo Stato del Califfato colpisce la Francia",
            "La Francia piange stanotte",
        ),
        "generic": ("Baqiya: resta e si espande",),
    },
}

# Opposing text. "mock" templates quote a supporters' slogan ({slogan}) on
# purpose: these are the hard cases a bag-of-hashtags model gets wrong.
_OPP_TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "open": ("", "", "", "", "Honestly,", "To everyone using this tag:", "Reminder:"),
        "condemn": (
            "Not in my name.",
            "Terrorism has no religion.",
            "These cowards do not speak for Islam or for anyone.",
            "Disgusting to see people cheering this.",
            "Shame on everyone celebrating tonight.",
            "No cause justifies this.",
            "Hate will not win.",
            "Muslims around the world condemn this.",
        ),
        "mock": (
            "'{slogan}'? More like a bunch of losers hiding behind a hashtag.",
            "They tweet '{slogan}' from their mum's basement.",
            "'{slogan}' lol. The only thing expanding is my block list.",
            "Imagine thinking '{slogan}' is a flex.",
            '"{slogan}" - nope. Paris is standing.',
        ),
        "flood": (
            "Flooding this tag with cats until it's useless 🐱",
            "Nothing to see here, just my cat sleeping",
            "Here's a picture of a croissant instead 🥐",
            "Joke of the day: why did the scarecrow win an award? He was outstanding in his field.",
            "Dropping some kittens in here 😺",
            "This hashtag now belongs to cat pictures",
            "Enjoy this video of a dog on a skateboard 🐶",
            "Reclaiming this tag with baguettes and bad puns 🥖",
            "Cats > propaganda 🐈",
            "Sharing my favourite pasta recipe here, carry on",
        ),
        "solidarity": (
            "Stay strong, Paris ❤️",
            "Thoughts with everyone in Paris tonight.",
            "Solidarity from Beirut to Paris.",
            "Paris, we stand with you 🇫🇷",
            "Love to all our friends in France.",
            "Fluctuat nec mergitur.",
            "Open doors for anyone stuck in Paris tonight.",
        ),
        "counter": (
            "As a Muslim: not in my name, never.",
            "Islam means peace, not this.",
            "Terror has no religion and no nation.",
        ),
        "report": (
            "Reporting every account pushing this tag.",
            "Report and block, don't amplify.",
            "Please report these accounts instead of sharing them.",
        ),
    },
    "ar": {
        "open": ("", "", "", "", "للتذكير:", "بصراحة،", "إلى كل من يستخدم هذا الوسم:"),
        "condemn": (
            "ليس باسمي.",
            "الإرهاب لا دين له.",
            "هؤلاء لا يمثلون الإسلام.",
            "الله يرحم الضحايا ويصبر أهلهم.",
            "عار على كل من يحتفل بهذا.",
            "لا شيء يبرر هذا.",
            "كل مسلم يرفض هذا الإجرام.",
            "الحمد لله على سلامة أهلنا في باريس.",
        ),
        "mock": (
            "يقولون «{slogan}»... الشيء الوحيد الذي يتمدد هو قائمة الحظر.",
            "«{slogan}»؟ من غرفة نومهم خلف الشاشة 😂",
            "«{slogan}» قالوا 🙄",
            "«{slogan}»؟ باريس صامدة.",
        ),
        "flood": (
            "قطط لإغراق الهاشتاق 🐱",
            "لا شيء هنا سوى قطتي النائمة 😺",
            "وصفة كنافة بدل الدعاية 🍰",
            "نكتة اليوم بدل دعايتهم 😂",
            "هذا الوسم صار للقطط",
            "صور قطط فقط من الآن 🐈",
            "أغنية فيروز الصباحية لكل من يمر من هنا 🎶",
        ),
        "solidarity": (
            "كلنا باريس ❤️",
            "تضامن مع باريس من بيروت.",
            "قلوبنا مع أهل فرنسا.",
            "باريس لستِ وحدك 🇫🇷",
            "من بغداد إلى باريس: الألم واحد.",
        ),
        "counter": ("أنا مسلم وأقول: ليس باسمي.", "الإسلام بريء من هذا."),
        "report": ("بلغوا عن الحسابات التي تنشر هذا الوسم.", "بلّغ واحظر ولا تعِد النشر."),
    },
    "fr": {
        "open": ("", "", "", "", "Franchement,", "Rappel :", "À tous ceux qui utilisent ce tag :"),
        "condemn": (
            "Pas en mon nom.",
            "Le terrorisme n'a pas de religion.",
            "Honte à ceux qui se réjouissent ce soir.",
            "Rien ne justifie cela.",
            "La haine ne gagnera pas.",
            "Pensées pour les victimes et leurs proches.",
        ),
        "mock": (
            "« {slogan} » ? Paris est debout, bande de guignols.",
            "Ils tweetent « {slogan} » depuis le canapé de leur mère 😂",
            "« {slogan} »… la seule chose qui s'étend, c'est ma liste de blocage.",
        ),
        "flood": (
            "On noie ce hashtag sous les chats 🐱",
            "Rien à voir ici, juste mon chat qui dort",
            "Une recette de crêpes à la place de leur propagande 🥞",
            "Blague du jour : que dit un escargot sur le dos d'une tortue ? Youhou !",
            "Ce hashtag appartient désormais aux chatons",
            "Baguette, fromage et chats. 🥖",
        ),
        "solidarity": (
            "Paris est debout ❤️",
            "Fluctuat nec mergitur.",
            "Ma porte est ouverte dans le 11e.",
            "Courage Paris 🇫🇷",
            "Toutes nos pensées vont à Paris ce soir.",
            "On reste unis.",
        ),
        "counter": (
            "Musulman et Français : pas en mon nom.",
            "Le terrorisme n'a ni religion ni patrie.",
        ),
        "report": ("Signalez ces comptes au lieu de les partager.", "Signalé, bloqué, suivant."),
    },
    "ru": {
        "open": ("", "", "", "Напоминание:", "Честно,"),
        "condemn": (
            "Не от моего имени.",
            "У терроризма нет религии.",
            "Позор тем, кто этому радуется.",
            "Ничто не оправдывает этого.",
            "Ненависть не победит.",
        ),
        "mock": (
            "«{slogan}»? Париж стоит, а вы сидите на диване 😂",
            "«{slogan}» — единственное, что расширяется, это мой чёрный список.",
            "Пишут «{slogan}» из маминой квартиры.",
        ),
        "flood": (
            "Заваливаем этот хэштег котиками 🐱",
            "Тут ничего нет, только мой кот спит",
            "Вот вам анекдот вместо пропаганды 😂",
            "Рецепт блинов вместо их пропаганды 🥞",
            "Этот хэштег теперь принадлежит котикам",
        ),
        "solidarity": (
            "Молимся за Париж 🙏",
            "Соболезнования Франции.",
            "Париж, мы с тобой 🇫🇷",
            "Держись, Париж ❤️",
        ),
        "report": ("Жалуйтесь на эти аккаунты, не репостите.",),
    },
    "de": {
        "condemn": (
            "Nicht in meinem Namen.",
            "Terror hat keine Religion.",
            "Schande über alle, die das feiern.",
        ),
        "mock": (
            "„{slogan}“? Paris steht, ihr Witzfiguren.",
            "„{slogan}“ – das Einzige, was sich ausdehnt, ist meine Blockliste.",
        ),
        "flood": ("Wir fluten diesen Hashtag mit Katzen 🐱", "Nichts zu sehen, nur meine Katze"),
        "solidarity": ("Wir sind bei dir, Paris ❤️", "Gedanken bei allen in Paris."),
    },
    "tr": {
        "condemn": (
            "Benim adıma değil.",
            "Terörün dini yoktur.",
            "Buna sevinenlere yazıklar olsun.",
        ),
        "mock": ("“{slogan}” mı? Paris ayakta, siz koltukta 😂",),
        "flood": ("Bu etiketi kedilerle dolduruyoruz 🐱", "Burada sadece uyuyan kedim var"),
        "solidarity": ("Paris için dua ediyoruz 🙏", "Geçmiş olsun Fransa 🇫🇷"),
    },
    "es": {
        "condemn": (
            "No en mi nombre.",
            "El terrorismo no tiene religión.",
            "Vergüenza para quien celebra esto.",
        ),
        "mock": ("¿«{slogan}»? París sigue en pie, payasos.",),
        "flood": ("Inundamos este hashtag con gatos 🐱", "Nada que ver aquí, solo mi gato"),
        "solidarity": ("Fuerza, París ❤️", "Todo nuestro apoyo a Francia 🇫🇷"),
    },
    "fa": {
        "condemn": ("نه به نام من.", "تروریسم دین ندارد.", "شرم بر کسانی که این را جشن می‌گیرند."),
        "mock": ("«{slogan}»؟ پاریس ایستاده است 😂",),
        "flood": ("این هشتگ را با عکس گربه پر می‌کنیم 🐱", "اینجا فقط گربه خواب من است"),
        "solidarity": ("پاریس تنها نیست ❤️", "تسلیت به مردم فرانسه."),
    },
    "id": {
        "condemn": (
            "Bukan atas namaku.",
            "Terorisme tidak punya agama.",
            "Malu bagi yang merayakan ini.",
        ),
        "mock": ("“{slogan}”? Paris tetap berdiri 😂",),
        "flood": ("Kita banjiri tagar ini dengan kucing 🐱", "Tidak ada apa-apa, cuma kucingku"),
        "solidarity": ("Doa untuk Paris 🙏", "Kuatlah, Paris ❤️"),
    },
    "it": {
        "condemn": ("Non nel mio nome.", "Il terrorismo non ha religione."),
        "mock": ("«{slogan}»? Parigi è in piedi 😂",),
        "flood": ("Inondiamo questo hashtag di gatti 🐱", "Niente da vedere, solo il mio gatto"),
        "solidarity": ("Forza Parigi ❤️", "Vicini alla Francia 🇫🇷"),
    },
}

# News headlines as (hours after the attacks from which they make sense, text).
# Casualty-free and factual by design.
_NEU_HEADS: dict[str, tuple[tuple[float, str], ...]] = {
    "en": (
        (0.2, "Police cordon in the 10th arrondissement"),
        (0.5, "Stade de France friendly: crowd leaves the stadium calmly"),
        (1.0, "Some metro lines closed, transport operator says"),
        (2.0, "President addresses the nation"),
        (2.5, "State of emergency declared across France"),
        (3.0, "Border controls reinstated"),
        (8.0, "Flights operating normally at Paris airports"),
        (10.0, "Interior minister holds press briefing"),
        (12.0, "Eiffel Tower closed to visitors until further notice"),
        (15.0, "Extra security at railway stations"),
        (20.0, "Schools in the Paris region to reopen on Monday"),
        (20.0, "Investigators carry out searches in Belgium"),
        (20.0, "Landmarks around the world lit in blue, white and red"),
        (30.0, "Social networks remove accounts promoting extremist hashtags"),
        (36.0, "World leaders express solidarity at G20 summit in Antalya"),
        (62.0, "Minute of silence observed across Europe"),
        (70.0, "Cafés in the 11th arrondissement reopen"),
        (104.0, "Police operation under way in Saint-Denis"),
        (110.0, "Parliament to debate extension of state of emergency"),
        (120.0, "EU interior ministers to meet in Brussels"),
    ),
    "fr": (
        (0.2, "Périmètre de sécurité dans le 10e arrondissement"),
        (1.0, "Certaines lignes de métro fermées"),
        (2.0, "Le président s'adresse à la nation"),
        (2.5, "L'état d'urgence décrété sur tout le territoire"),
        (3.0, "Rétablissement des contrôles aux frontières"),
        (10.0, "Le ministre de l'Intérieur tient un point presse"),
        (12.0, "La tour Eiffel fermée jusqu'à nouvel ordre"),
        (20.0, "Les écoles d'Île-de-France rouvriront lundi"),
        (20.0, "Perquisitions en Belgique"),
        (62.0, "Minute de silence dans toute l'Europe"),
        (70.0, "Les terrasses du 11e rouvrent"),
        (104.0, "Opération de police en cours à Saint-Denis"),
        (110.0, "Le Parlement examine la prolongation de l'état d'urgence"),
    ),
    "ar": (
        (0.2, "طوق أمني للشرطة في الدائرة العاشرة"),
        (1.0, "إغلاق بعض خطوط المترو في باريس"),
        (2.0, "الرئيس الفرنسي يلقي كلمة للأمة"),
        (2.5, "إعلان حالة الطوارئ في فرنسا"),
        (3.0, "إعادة فرض الرقابة على الحدود"),
        (8.0, "الرحلات الجوية تسير بشكل طبيعي في مطارات باريس"),
        (10.0, "وزير الداخلية يعقد مؤتمرا صحفيا"),
        (12.0, "برج إيفل يغلق أبوابه أمام الزوار"),
        (20.0, "عمليات تفتيش في بلجيكا"),
        (30.0, "مواقع التواصل تحذف حسابات تروج لوسوم متطرفة"),
        (36.0, "قادة مجموعة العشرين يعبرون عن تضامنهم في أنطاليا"),
        (62.0, "دقيقة صمت في أنحاء أوروبا"),
        (104.0, "عملية أمنية في سان دوني"),
    ),
    "ru": (
        (0.2, "Полиция оцепила квартал в 10-м округе"),
        (1.0, "Часть линий метро закрыта"),
        (2.0, "Президент Франции обратился к нации"),
        (2.5, "Во Франции введено чрезвычайное положение"),
        (3.0, "Восстановлен пограничный контроль"),
        (12.0, "Эйфелева башня закрыта для посетителей"),
        (20.0, "Обыски в Бельгии"),
        (30.0, "Соцсети удаляют аккаунты с экстремистскими хэштегами"),
        (62.0, "Минута молчания по всей Европе"),
        (104.0, "Полицейская операция в Сен-Дени"),
    ),
    "de": (
        (0.2, "Polizeiabsperrung im 10. Arrondissement"),
        (2.0, "Präsident wendet sich an die Nation"),
        (2.5, "Ausnahmezustand in Frankreich ausgerufen"),
        (3.0, "Grenzkontrollen wieder eingeführt"),
        (62.0, "Schweigeminute in ganz Europa"),
    ),
    "tr": (
        (0.2, "Paris'in 10. bölgesinde polis kordonu"),
        (2.0, "Fransa Cumhurbaşkanı ulusa seslendi"),
        (2.5, "Fransa'da olağanüstü hal ilan edildi"),
        (3.0, "Sınır kontrolleri yeniden başladı"),
        (36.0, "G20 liderleri Antalya'da dayanışma mesajı verdi"),
    ),
    "es": (
        (0.2, "Cordón policial en el distrito 10"),
        (2.0, "El presidente se dirige a la nación"),
        (2.5, "Estado de emergencia en Francia"),
        (3.0, "Se restablecen los controles fronterizos"),
        (62.0, "Minuto de silencio en toda Europa"),
    ),
    "fa": (
        (0.2, "حلقه محاصره پلیس در منطقه دهم پاریس"),
        (2.0, "رئیس‌جمهور فرانسه با ملت سخن گفت"),
        (2.5, "وضعیت اضطراری در فرانسه اعلام شد"),
        (3.0, "کنترل مرزها دوباره برقرار شد"),
    ),
    "id": (
        (0.2, "Polisi memasang garis pengamanan di distrik 10"),
        (2.0, "Presiden Prancis berpidato kepada bangsa"),
        (2.5, "Prancis umumkan keadaan darurat"),
        (3.0, "Kontrol perbatasan diberlakukan kembali"),
    ),
    "it": (
        (0.2, "Cordone di polizia nel 10° arrondissement"),
        (2.0, "Il presidente parla alla nazione"),
        (2.5, "Stato di emergenza in Francia"),
        (3.0, "Ripristinati i controlli alle frontiere"),
    ),
}
# News about the hashtags themselves: neutral posts that carry a supporters' tag.
_NEU_QUOTE: dict[str, tuple[str, ...]] = {
    "en": (
        "Researchers track surge of {tag} hashtag on Twitter",
        "Pro-IS accounts push {tag}; users flood it with cat pictures",
        "Analysis: how {tag} was taken over by counter-speech",
        "Platforms review posts under {tag}",
    ),
    "fr": (
        "Des chercheurs observent la montée du hashtag {tag}",
        "Le hashtag {tag} noyé sous les photos de chats",
    ),
    "ar": (
        "باحثون يرصدون انتشار وسم {tag} على تويتر",
        "حسابات مؤيدة للتنظيم تروج لوسم {tag} ومستخدمون يغرقونه بصور القطط",
    ),
    "ru": (
        "Исследователи фиксируют всплеск хэштега {tag}",
        "Хэштег {tag} заполнили фотографиями котиков",
    ),
    "de": ("Forscher beobachten Anstieg des Hashtags {tag}",),
    "tr": ("Araştırmacılar {tag} etiketindeki artışı izliyor",),
    "es": ("Investigadores siguen el auge del hashtag {tag}",),
    "fa": ("پژوهشگران افزایش هشتگ {tag} را بررسی می‌کنند",),
    "id": ("Peneliti memantau lonjakan tagar {tag}",),
    "it": ("I ricercatori seguono la crescita dell'hashtag {tag}",),
}
_NEU_PRE: dict[str, tuple[str, ...]] = {
    "en": (
        "COP21 preparations continue in Paris",
        "France and Germany meet at Stade de France",
        "Paris weather: mild and cloudy this weekend",
        "Louvre extends winter opening hours",
    ),
    "fr": (
        "Les préparatifs de la COP21 se poursuivent",
        "France-Allemagne au Stade de France",
        "Météo : temps doux et nuageux ce week-end",
    ),
    "ar": ("استعدادات مؤتمر المناخ في باريس", "مباراة ودية بين فرنسا وألمانيا"),
    "ru": ("В Париже идёт подготовка к COP21", "Франция и Германия сыграют товарищеский матч"),
    "de": (
        "Vorbereitungen für die COP21 in Paris",
        "Frankreich gegen Deutschland im Stade de France",
    ),
    "tr": ("Paris'te COP21 hazırlıkları sürüyor",),
    "es": ("Continúan los preparativos de la COP21 en París",),
    "fa": ("آماده‌سازی برای کنفرانس اقلیمی پاریس ادامه دارد",),
    "id": ("Persiapan COP21 di Paris terus berlanjut",),
    "it": ("Proseguono i preparativi per la COP21 a Parigi",),
}
# The 1990 documentary "Paris Is Burning" used the tag long before 2015:
# neutral posts under a supporters' hashtag, a realistic false friend.
_NEU_DOC: dict[str, tuple[str, ...]] = {
    "en": (
        "Rewatching the 1990 documentary Paris Is Burning tonight",
        "Paris Is Burning (1990) is streaming this week",
        "Film class today: Paris Is Burning and ballroom culture",
    ),
    "fr": (
        "Le documentaire Paris Is Burning ressort en salle",
        "Ciné-club ce soir : Paris Is Burning (1990)",
    ),
}
_NEU_OPEN: dict[str, tuple[str, ...]] = {
    "en": ("", "", "BREAKING:", "UPDATE:", "LIVE:", "Latest:"),
    "fr": ("", "", "URGENT -", "DIRECT -", "INFO -"),
    "ar": ("", "", "عاجل:", "متابعة:", "مباشر:"),
    "ru": ("", "", "Срочно:", "Обновление:"),
    "de": ("", "Eilmeldung:", "Aktuell:"),
    "tr": ("", "Son dakika:"),
    "es": ("", "Última hora:"),
    "fa": ("", "فوری:"),
    "id": ("", "Terkini:"),
    "it": ("", "Ultim'ora:"),
}
_NEU_MORE: dict[str, tuple[str, ...]] = {
    "en": ("More details to follow.", "Details in the link below.", "We will update this post."),
    "fr": ("Plus d'informations à suivre.", "Détails dans le lien ci-dessous."),
    "ar": ("التفاصيل لاحقا.", "التفاصيل في الرابط."),
    "ru": ("Подробности позже.", "Подробности по ссылке."),
    "de": ("Weitere Details folgen.",),
    "tr": ("Ayrıntılar birazdan.",),
    "es": ("Más detalles en breve.",),
    "fa": ("جزئیات بیشتر به زودی.",),
    "id": ("Detail menyusul.",),
    "it": ("Seguiranno aggiornamenti.",),
}
_NEWS_DOMAINS: dict[str, tuple[str, ...]] = {
    "en": ("wire.demo-news.example", "world.demo-daily.example"),
    "fr": ("actu.demo-presse.example", "direct.demo-info.example"),
    "ar": ("akhbar.demo-news.example", "ajel.demo-media.example"),
    "ru": ("novosti.demo-news.example",),
}

_SUP_EMOJI = ("🔥", "💥", "☝️", "🏴", "🔥🔥", "⚫", "🇫🇷🔥")
_OPP_EMOJI = ("🐱", "😹", "🙏", "❤️", "💙", "🇫🇷", "🕊️", "😂", "🥐", "🕯️", "🔥")
_NEU_EMOJI = ("🔴", "📰", "⚡", "🇫🇷")


def _fill_banks() -> None:
    """Give every language every category, falling back within the language.

    Why: smaller languages have fewer templates; the generator should never
    need to know which ones are missing.
    """
    for lang in _LANGS:
        opp = _OPP_TEXT[lang]
        opp.setdefault("open", ("",))
        opp.setdefault("counter", opp["condemn"])
        opp.setdefault("report", opp["condemn"])
        _SUP_GENERIC_TAGS.setdefault(lang, [_AR_BAQ, _EN_BAQ])
        _NEWS_DOMAINS.setdefault(lang, (f"news.demo-{lang}.example", "wire.demo-news.example"))


_fill_banks()

# -- handles ------------------------------------------------------------------------------

_SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")
_NEWS_SUFFIX = ("news", "info", "24", "live", "actu", "akhbar")
_TOKEN_FIX = str.maketrans("-_", "Kx")


def _syllables(number: int) -> str:
    """Bijective base-70 spelling of ``number`` as pronounceable syllables.

    number: a non-negative integer; distinct numbers give distinct strings.
    """
    out = []
    number += 1
    while number > 0:
        number -= 1
        number, digit = divmod(number, len(_SYLLABLES))
        out.append(_SYLLABLES[digit])
    return "".join(out)


def _handle(global_id: int, kind: int) -> str:
    """Obviously fake author handle.

    global_id: unique author number across all pools.
    kind: 0 individual Twitter account, 1 Twitter news outlet, 2 Telegram channel.
    """
    syl = _syllables(global_id)
    if kind == 2:
        return f"demo_ch_{syl}"
    if kind == 1:
        return f"demo_{syl}_{_NEWS_SUFFIX[global_id % len(_NEWS_SUFFIX)]}"
    return f"demo_{syl}{global_id % 89}" if global_id % 3 == 0 else f"demo_{syl}"


# -- planning -----------------------------------------------------------------------------

_Bin = tuple[int, str, int, float, float, float]


def _plan(n_posts: int) -> list[_Bin]:
    """Posts per 10-minute bin and the class mix of each bin.

    n_posts: total number of posts; the counts sum to exactly this.
    Returns (count, 'YYYY-MM-DDTHH:' prefix, first minute, hours since the
    attack at bin start, P(supportive), P(supportive or opposing)).
    """
    n_bins = int((_END - _START).total_seconds()) // _BIN_SECONDS
    curves = (_sup_intensity, _opp_intensity, _neu_intensity)
    raw: list[list[float]] = [[], [], []]
    starts = []
    for b in range(n_bins):
        start = _START + timedelta(seconds=b * _BIN_SECONDS)
        starts.append(start)
        mid_hours = (start - _ATTACK).total_seconds() / 3600.0 + _BIN_SECONDS / 7200.0
        hour = start.hour + start.minute / 60.0
        # Mild day/night rhythm, quietest around 03:00 UTC.
        diurnal = 0.8 + 0.2 * math.cos(2.0 * math.pi * (hour - 15.0) / 24.0)
        for c, curve in enumerate(curves):
            raw[c].append(curve(mid_hours) * diurnal)
    totals = [sum(r) for r in raw]
    plan: list[_Bin] = []
    cumulative = 0.0
    assigned = 0
    for b, start in enumerate(starts):
        w = [_CLASS_SHARE[c] * raw[c][b] / totals[c] for c in range(3)]
        weight = w[0] + w[1] + w[2]
        cumulative += weight
        # Cumulative rounding: exact total, no per-bin drift.
        upto = n_posts if b == n_bins - 1 else round(n_posts * cumulative)
        count = max(0, upto - assigned)
        assigned += count
        plan.append(
            (
                count,
                start.strftime("%Y-%m-%dT%H:"),
                start.minute,
                (start - _ATTACK).total_seconds() / 3600.0,
                w[0] / weight,
                (w[0] + w[1]) / weight,
            )
        )
    return plan


# -- generation ---------------------------------------------------------------------------


class _Generator:
    """Holds the random source and rolling state of one generation run."""

    def __init__(self, n_posts: int, seed: int) -> None:
        """n_posts: corpus size (scales author pools); seed: the run's seed."""
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.bits = self.rng.getrandbits
        self.width = max(6, len(str(max(n_posts - 1, 0))))
        self.lang_cum: list[tuple[tuple[str, ...], list[float]]] = []
        for shares in _LANG_SHARE:
            langs = tuple(shares)
            total = sum(shares.values())
            acc = 0.0
            cum = []
            for lang in langs:
                acc += shares[lang] / total
                cum.append(acc)
            cum[-1] = 1.0
            self.lang_cum.append((langs, cum))
        # Author pools per (class, language, platform); pool p owns the
        # author numbers congruent to p, so handles never collide.
        self.pools: dict[tuple[int, str, int], tuple[int, int, int]] = {}
        keys = [(c, lang, tg) for c in range(3) for lang in _LANGS for tg in (0, 1)]
        self.n_pools = len(keys)
        for p, (c, lang, tg) in enumerate(keys):
            share = _CLASS_SHARE[c] * _LANG_SHARE[c].get(lang, 0.0)
            share *= _TELEGRAM_SHARE[c] if tg else 1.0 - _TELEGRAM_SHARE[c]
            size = max(3, math.ceil(n_posts * share / _POSTS_PER_AUTHOR[(c, tg)]))
            kind = 2 if tg else (1 if c == _NEU else 0)
            self.pools[(c, lang, tg)] = (p, size, kind)
        self.handles: dict[int, tuple[str, str]] = {}
        # Recent Twitter originals per (class, language): retweet and reply targets.
        self.recent: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
        self.last_channel_post: dict[str, str] = {}
        self.neu_heads = {
            lang: (tuple(h[0] for h in heads), tuple(h[1] for h in heads))
            for lang, heads in _NEU_HEADS.items()
        }

    # small helpers: index arithmetic instead of rng.choice is several times faster
    def pick(self, seq: Sequence[str]) -> str:
        """A uniformly chosen element. seq: a non-empty sequence of strings."""
        return seq[int(self.rnd() * len(seq))]

    def tag(self, tags: Sequence[_Tag]) -> str:
        """One spelling of one hashtag, the canonical spelling most often.

        tags: candidate hashtags, each a tuple of spellings (canonical first).
        """
        return self.spelling(tags[int(self.rnd() * len(tags))])

    def spelling(self, spellings: _Tag) -> str:
        """The canonical spelling 60% of the time, else one of the variants.

        spellings: one hashtag's spellings, canonical first.
        """
        r = self.rnd()
        if r < 0.6 or len(spellings) == 1:
            return spellings[0]
        return spellings[1 + int((r - 0.6) / 0.4 * (len(spellings) - 1))]

    def tags(self, tags: Sequence[_Tag], k: int) -> list[str]:
        """Spellings of up to k distinct hashtags.

        tags: candidate hashtags; k: how many to draw (a hashtag drawn twice is
        kept once, so '#Baqiya #baqiya' never appears in one post).
        """
        out: list[str] = []
        seen: list[_Tag] = []
        for _ in range(k):
            spellings = tags[int(self.rnd() * len(tags))]
            if spellings in seen:
                continue
            seen.append(spellings)
            out.append(self.spelling(spellings))
        return out

    def token(self, k: int) -> str:
        """Random alphanumeric token. k: its length (at most 16)."""
        # base64 runs in C; '-' and '_' are mapped to letters to look like t.co ids.
        raw = base64.urlsafe_b64encode(self.bits(96).to_bytes(12, "little"))
        return raw[:k].decode("ascii").translate(_TOKEN_FIX)

    def author(self, cls: int, lang: str, tg: int, r: float) -> tuple[str, str]:
        """(handle, group id) of an author of a pool.

        cls: class index; lang: language code; tg: 1 for Telegram, 0 for Twitter;
        r: a uniform draw in [0, 1); squaring it makes a few authors very active.
        """
        p, size, kind = self.pools[(cls, lang, tg)]
        gid = int(size * r * r) * self.n_pools + p
        known = self.handles.get(gid)
        if known is None:
            if len(self.handles) > 65536:
                # Bounded cache keeps a 1M-post run at constant memory.
                self.handles.clear()
            known = self.handles[gid] = (_handle(gid, kind), f"demo-u{gid:07d}")
        return known

    def link(self, kind: str, lang: str, created: str, channel: str) -> str:
        """A fake URL of the given kind.

        kind: 'justpaste', 'archive', 'tme', 'tco', 'pic' or 'news';
        lang: language (picks a news domain); created: the post's ISO time;
        channel: handle used for t.me links.
        """
        if kind == "tco":
            return f"https://t.co/{self.token(10)}"
        if kind == "justpaste":
            return f"https://justpaste.it/{self.token(5).lower()}"
        if kind == "archive":
            stamp = created[0:4] + created[5:7] + created[8:10] + created[11:13] + created[14:16]
            return (
                f"https://web.archive.org/web/{stamp}{created[17:19]}/"
                f"http://justpaste.it/{self.token(5).lower()}"
            )
        if kind == "tme":
            return f"https://t.me/{channel}/{1 + int(self.rnd() * 4000)}"
        if kind == "pic":
            return f"pic.twitter.com/{self.token(10)}"
        domain = self.pick(_NEWS_DOMAINS[lang])
        return (
            f"https://{domain}/{created[0:4]}/{created[5:7]}/{created[8:10]}/"
            f"paris-{self.token(6).lower()}"
        )

    # -- composers -------------------------------------------------------------------

    def supportive(self, lang: str, t: float, tg: int, created: str, handle: str) -> str:
        """Text of a supportive post: opener / slogan(s) / hashtags / link / emoji.

        lang: language; t: hours since the attacks; tg: 1 for a Telegram channel
        post; created: ISO time; handle: the author's handle.
        """
        rnd = self.rnd
        bank = _SUP_TEXT[lang]
        after = t >= 0.25
        slogans = bank["paris"] if after and rnd() < 0.85 else bank["generic"]
        core = self.pick(slogans)
        tag_pool = _SUP_TAGS[lang] if after else _SUP_GENERIC_TAGS[lang]
        r = rnd()
        tags = self.tags(tag_pool, 1 if r < 0.5 else (2 if r < 0.85 else 3))
        if after and rnd() < 0.25:
            tags.append(self.tag(_SUP_GENERIC_TAGS[lang]))
        if after and rnd() < 0.08:
            # Hashtag hijacking: supporters also post into solidarity tags.
            tags.append(self.tag(_OPP_TAGS[lang]))
        opener = self.pick(bank["open"])
        if after and rnd() < 0.07:
            # Hard case: a news headline with a gloating slogan appended.
            times, heads = self.neu_heads[lang]
            k = max(1, bisect.bisect_right(times, t))
            opener = heads[int(rnd() * k)] + " -"
        emoji = self.pick(_SUP_EMOJI) if rnd() < 0.5 else ""
        if tg:
            second = self.pick(bank["generic"] if rnd() < 0.5 else slogans)
            links = [self.link("tme", lang, created, handle)]
            r = rnd()
            if r < 0.35:
                links.insert(0, self.link("justpaste", lang, created, handle))
            elif r < 0.55:
                links.insert(0, self.link("archive", lang, created, handle))
            head = " ".join(p for p in (emoji, opener, core) if p)
            return f"{head}\n{second} {self.pick(_SUP_EMOJI)}\n\n{' '.join(tags)}\n" + "\n".join(
                links
            )
        if rnd() < 0.2:
            core = f"{core} — {self.pick(bank['generic'])}"
        parts = [opener, core]
        if rnd() < 0.3:
            parts.insert(0, tags.pop())
        parts.extend(tags)
        r = rnd()
        if r < 0.15:
            parts.append(self.link("justpaste", lang, created, handle))
        elif r < 0.25:
            parts.append(self.link("archive", lang, created, handle))
        elif r < 0.35:
            chan, _ = self.author(_SUP, lang, 1, rnd())
            parts.append(self.link("tme", lang, created, chan))
        elif r < 0.5:
            parts.append(self.link("tco", lang, created, handle))
        if rnd() < 0.08:
            other, _ = self.author(_SUP, lang, 0, rnd())
            parts.append(f"via @{other}")
        parts.append(emoji)
        return " ".join(p for p in parts if p)

    def opposing(self, lang: str, t: float, tg: int, created: str, handle: str) -> str:
        """Text of an opposing post; flooding into supporters' tags grows with time.

        lang: language; t: hours since the attacks; tg: 1 for a Telegram channel
        post; created: ISO time; handle: the author's handle.
        """
        rnd = self.rnd
        bank = _OPP_TEXT[lang]
        tags: list[str]
        if t < 0.5:
            # Background counter-extremism before the attacks.
            if rnd() < 0.3:
                slogan = self.pick(_SUP_TEXT[lang]["generic"])
                core = self.pick(bank["mock"]).format(slogan=slogan)
                tags = [self.tag(_SUP_GENERIC_TAGS[lang])]
            else:
                core = self.pick(bank["counter"])
                tags = [self.tag(_OPP_GENERIC_TAGS[lang])]
        elif rnd() < _flood_probability(t):
            r = rnd()
            if r < 0.45:
                category = "flood"
            elif r < 0.65:
                category = "mock"
            elif r < 0.8:
                category = "condemn"
            elif r < 0.9:
                category = "solidarity"
            else:
                category = "report"
            core = self.pick(bank[category])
            if category == "mock":
                core = core.format(slogan=self.pick(_SUP_TEXT[lang]["paris"]))
            tags = self.tags(_SUP_TAGS[lang], 1 if rnd() < 0.7 else 2)
            if rnd() < 0.3:
                tags.append(self.tag(_OPP_TAGS[lang]))
        else:
            r = rnd()
            if r < 0.45:
                core = self.pick(bank["solidarity"])
            elif r < 0.8:
                core = self.pick(bank["condemn"])
            elif r < 0.95:
                core = self.pick(bank["counter"])
            else:
                core = self.pick(bank["mock"]).format(slogan=self.pick(_SUP_TEXT[lang]["paris"]))
            tags = self.tags(_OPP_TAGS[lang], 1 if rnd() < 0.6 else 2)
        parts = [self.pick(bank["open"]), core]
        if rnd() < 0.25:
            parts.insert(0, tags.pop())
        parts.extend(tags)
        r = rnd()
        if "🐱" in core or "😺" in core or "🐈" in core or r < 0.1:
            parts.append(self.link("pic", lang, created, handle))
        elif r < 0.2:
            parts.append(self.link("tco", lang, created, handle))
        elif r < 0.25:
            parts.append(self.link("news", lang, created, handle))
        if rnd() < 0.1:
            other, _ = self.author(_OPP, lang, 0, rnd())
            parts.append(f"cc @{other}")
        if rnd() < 0.35:
            parts.append(self.pick(_OPP_EMOJI))
        text = " ".join(p for p in parts if p)
        if tg:
            return text + "\n" + self.link("tme", lang, created, handle)
        return text

    def neutral(self, lang: str, t: float, tg: int, created: str, handle: str) -> str:
        """Text of a news post: opener / headline / tag / link / 'via'.

        lang: language; t: hours since the attacks; tg: 1 for a Telegram channel
        post; created: ISO time; handle: the author's handle.
        """
        rnd = self.rnd
        doc = _NEU_DOC.get(lang)
        tags: list[str]
        if t < 0.2:
            if doc and rnd() < 0.25:
                core = self.pick(doc)
                tags = [self.tag([_PIB]), "#documentary"]
            else:
                core = self.pick(_NEU_PRE[lang])
                tags = [self.tag(_NEU_PRE_TAGS)]
        else:
            r = rnd()
            if t >= 1.5 and r < 0.06:
                core = self.pick(_NEU_QUOTE[lang]).format(tag=self.tag(_SUP_TAGS[lang]))
                tags = [self.tag(_NEU_TAGS[lang])]
            elif doc and r < 0.07:
                core = self.pick(doc)
                tags = [self.tag([_PIB])]
            else:
                times, heads = self.neu_heads[lang]
                k = max(1, bisect.bisect_right(times, t))
                core = heads[int(rnd() * k)]
                tags = self.tags(_NEU_TAGS[lang], 1 if rnd() < 0.7 else 2)
        opener = self.pick(_NEU_OPEN[lang])
        link = (
            self.link("news", lang, created, handle)
            if rnd() < 0.6
            else self.link("tco", lang, created, handle)
        )
        if tg:
            more = self.pick(_NEU_MORE[lang])
            head = f"🔴 {opener} {core}" if opener else f"🔴 {core}"
            return f"{head}\n\n{more}\n{' '.join(tags)}\n{link}\nhttps://t.me/{handle}"
        parts = [opener, core, *tags, link]
        if rnd() < 0.15:
            other, _ = self.author(_NEU, lang, 0, rnd())
            parts.append(f"via @{other}")
        if rnd() < 0.1:
            parts.append(self.pick(_NEU_EMOJI))
        return " ".join(p for p in parts if p)

    # -- the stream --------------------------------------------------------------------

    def run(self, plan: list[_Bin]) -> Iterator[dict[str, Any]]:
        """Yield the records of ``plan`` in time order.

        plan: per-bin counts and class mixes from ``_plan``.
        """
        rnd = self.rnd
        recent = self.recent
        author = self.author
        last_channel_post = self.last_channel_post
        bisect_right = bisect.bisect_right
        # Everything the hot loop needs about a class, in one tuple lookup.
        per_class = [
            (*self.lang_cum[c], _TELEGRAM_SHARE[c], _LABELS[c], composer)
            for c, composer in enumerate((self.supportive, self.opposing, self.neutral))
        ]
        index = 0
        width = self.width
        clocks = [
            [f"{m0 + off // 60:02d}:{off % 60:02d}Z" for off in range(_BIN_SECONDS)]
            for m0 in range(0, 60, _BIN_SECONDS // 60)
        ]
        for count, prefix, minute0, t0, p_sup, p_sup_opp in plan:
            if not count:
                continue
            offsets = sorted([int(rnd() * _BIN_SECONDS) for _ in range(count)])
            # "MM:SSZ" strings for every offset of this bin, shared by all bins
            # that start at the same minute of the hour.
            clock = clocks[minute0 // 10]
            for off in offsets:
                created = prefix + clock[off]
                t = t0 + off / 3600.0
                r = rnd()
                cls = _SUP if r < p_sup else (_OPP if r < p_sup_opp else _NEU)
                langs, cum, tg_share, label, compose = per_class[cls]
                lang = langs[bisect_right(cum, rnd())]
                tg = 1 if rnd() < tg_share else 0
                post_id = "demo-" + str(index).zfill(width)
                index += 1
                handle, group = author(cls, lang, tg, rnd())
                retweet_of = reply_to = None
                key = (cls, lang)
                pool = recent.get(key)
                if tg:
                    text = compose(lang, t, tg, created, handle)
                    previous = last_channel_post.get(handle)
                    if previous is not None and cls == _NEU and rnd() < 0.1:
                        # News channels thread updates under their earlier post.
                        reply_to = previous
                    last_channel_post[handle] = post_id
                    if len(last_channel_post) > 65536:
                        last_channel_post.clear()
                elif pool and rnd() < _P_RETWEET:
                    # Popular recent posts get most retweets: bias toward the end.
                    original = pool[len(pool) - 1 - int(len(pool) * rnd() ** 2)]
                    retweet_of = original[0]
                    text = f"RT @{original[1]}: {original[2]}"
                else:
                    target_pool = pool
                    if cls == _OPP and rnd() < 0.7:
                        # Opponents mostly answer supporters.
                        target_pool = recent.get((_SUP, lang))
                    body = compose(lang, t, tg, created, handle)
                    if target_pool and rnd() < _P_REPLY:
                        target = target_pool[len(target_pool) - 1 - int(len(target_pool) * rnd())]
                        reply_to = target[0]
                        text = f"@{target[1]} {body}"
                    else:
                        text = body
                    if pool is None:
                        pool = recent[key] = []
                    pool.append((post_id, handle, text))
                    if len(pool) > 120:
                        del pool[:60]
                yield {
                    "id": post_id,
                    "platform": "telegram" if tg else "twitter",
                    "author": handle,
                    "group": group,
                    "text": text,
                    "lang": lang,
                    "created_at": created,
                    "label": label,
                    "retweet_of": retweet_of,
                    "reply_to": reply_to,
                    "synthetic": True,
                }


def generate_demo(n_posts: int = DEMO_SIZE, seed: int = DEMO_SEED) -> Iterator[dict[str, Any]]:
    """Yields n_posts records, sorted by created_at, deterministic for (n_posts, seed).

    n_posts: number of records to produce (>= 0); the timeline is the same for
        any size, so a larger corpus is denser, not longer.
    seed: seed of the private ``random.Random``; the same pair always yields
        the same records.
    Records are flat dicts: id, platform, author, group, text, lang, created_at
    (ISO 8601 UTC with 'Z'), label, retweet_of, reply_to, synthetic (always True).
    """
    if n_posts < 0:
        raise ValueError(f"n_posts must be >= 0, got {n_posts}")
    return _Generator(n_posts, seed).run(_plan(n_posts))


def write_demo_jsonl(path: str | Path, n_posts: int = DEMO_SIZE, seed: int = DEMO_SEED) -> Path:
    """Write the demo corpus as JSON lines and return the path written.

    path: output file; a name ending in '.gz' is gzip-compressed. Parent
        directories are created.
    n_posts: number of records (see ``generate_demo``).
    seed: generation seed (see ``generate_demo``).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _open_text(out) as handle:
        batch: list[str] = []
        for record in generate_demo(n_posts, seed):
            batch.append(_jsonl_line(record))
            if len(batch) >= 4096:
                batch.append("")
                handle.write("\n".join(batch))
                batch = []
        if batch:
            batch.append("")
            handle.write("\n".join(batch))
    return out


def _open_text(path: Path) -> IO[str]:
    """Open ``path`` for writing UTF-8 text, gzip-compressed when it ends in '.gz'.

    path: the output file.
    """
    if path.suffix == ".gz":
        # Level 6 is several times faster than the default 9 for a few percent in size.
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    return path.open("w", encoding="utf-8")


def _jsonl_line(record: Mapping[str, Any]) -> str:
    """One record as compact JSON, three times faster than ``json.dumps``.

    record: a record from ``generate_demo``. Only the text (and, defensively,
    the author) can hold characters that need escaping; the other fields are
    generated ASCII identifiers, codes and timestamps.
    """
    retweet_of = record["retweet_of"]
    reply_to = record["reply_to"]
    return (
        f'{{"id":"{record["id"]}","platform":"{record["platform"]}",'
        f'"author":{_json_string(record["author"])},"group":"{record["group"]}",'
        f'"text":{_json_string(record["text"])},"lang":"{record["lang"]}",'
        f'"created_at":"{record["created_at"]}","label":"{record["label"]}",'
        f'"retweet_of":{"null" if retweet_of is None else json.dumps(retweet_of)},'
        f'"reply_to":{"null" if reply_to is None else json.dumps(reply_to)},"synthetic":true}}'
    )


# -- exports ------------------------------------------------------------------------------

# Same spans a Twitter client would link: URLs first (they may contain '#'),
# then hashtags (letters, marks incl. Arabic harakat and tatweel, ZWNJ), then @handles.
_ENTITY_RE = re.compile(
    r"(?P<url>(?:https?://|pic\.twitter\.com/)\S+)"
    r"|(?P<hashtag>(?<![\w#&])#[\w\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u200c]+)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{1,32})"
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _spans(text: str) -> list[tuple[str, str, int, int]]:
    """Entities of ``text`` as (kind, matched text, start, end), in order.

    text: post text; offsets are Python (code point) indices, as Twitter uses.
    """
    return [(m.lastgroup or "", m.group(), m.start(), m.end()) for m in _ENTITY_RE.finditer(text)]


def _parse_created(created_at: str) -> datetime:
    """Aware UTC datetime of a record's ISO 8601 'Z' time. created_at: that string."""
    return datetime.fromisoformat(created_at).astimezone(UTC)


def _twitter_time(moment: datetime) -> str:
    """Twitter's 'Wed Nov 18 21:04:05 +0000 2015' (locale independent).

    moment: an aware datetime.
    """
    moment = moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
        f"{moment:%H:%M:%S} +0000 {moment.year}"
    )


def _display_url(url: str) -> str:
    """Twitter's shortened display form of a URL. url: the full URL."""
    bare = url.split("://", 1)[-1]
    return bare if len(bare) <= 26 else bare[:25] + "…"


def to_twitter_v1(
    record: Mapping[str, Any], *, originals: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """A Twitter API v1.1 status (extended mode) for one demo record.

    record: a record from ``generate_demo``.
    originals: optional id -> record lookup; when the retweeted record is in
        it, a nested ``retweeted_status`` is added (as the API does),
        otherwise that key is omitted.
    The stance label is carried in the non-API key ``swarmlens_label``.
    """
    text = record["text"]
    hashtags = []
    urls = []
    mentions = []
    for kind, value, start, end in _spans(text):
        if kind == "hashtag":
            hashtags.append({"text": value[1:], "indices": [start, end]})
        elif kind == "url":
            expanded = value if "://" in value else "https://" + value
            urls.append(
                {
                    "url": value,
                    "expanded_url": expanded,
                    "display_url": _display_url(value),
                    "indices": [start, end],
                }
            )
        elif kind == "mention":
            mentions.append(
                {
                    "screen_name": value[1:],
                    "name": value[1:],
                    "indices": [start, end],
                }
            )
    status: dict[str, Any] = {
        "created_at": _twitter_time(_parse_created(record["created_at"])),
        "id_str": record["id"],
        "full_text": text,
        "truncated": False,
        "display_text_range": [0, len(text)],
        "entities": {"hashtags": hashtags, "symbols": [], "user_mentions": mentions, "urls": urls},
        "source": "swarmlens synthetic demo",
        "in_reply_to_status_id_str": record.get("reply_to"),
        "user": {
            "id_str": record.get("group") or record["author"],
            "screen_name": record["author"],
            "name": record["author"],
        },
        "is_quote_status": False,
        "lang": record["lang"],
        "swarmlens_label": record.get("label"),
        "swarmlens_synthetic": bool(record.get("synthetic", True)),
    }
    original_id = record.get("retweet_of")
    if original_id is not None and originals is not None and original_id in originals:
        status["retweeted_status"] = to_twitter_v1(originals[original_id])
    return status


def to_twitter_v2_page(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One Twitter API v2 search page holding ``records``.

    records: records from ``generate_demo`` (any platform; all become tweets).
    Entity types that a tweet lacks are omitted, as the API does. Retweeted
    originals present in ``records`` are also listed in ``includes.tweets``.
    The stance label is carried in the non-API key ``label``.
    """
    data = []
    users: dict[str, dict[str, str]] = {}
    by_id = {r["id"]: r for r in records}
    referenced: dict[str, dict[str, Any]] = {}
    for record in records:
        text = record["text"]
        ents: dict[str, list[dict[str, Any]]] = {}
        for kind, value, start, end in _spans(text):
            if kind == "hashtag":
                ents.setdefault("hashtags", []).append(
                    {"start": start, "end": end, "tag": value[1:]}
                )
            elif kind == "url":
                expanded = value if "://" in value else "https://" + value
                ents.setdefault("urls", []).append(
                    {"start": start, "end": end, "url": value, "expanded_url": expanded}
                )
            elif kind == "mention":
                ents.setdefault("mentions", []).append(
                    {"start": start, "end": end, "username": value[1:]}
                )
        author_id = record.get("group") or record["author"]
        tweet: dict[str, Any] = {
            "id": record["id"],
            "text": text,
            "created_at": record["created_at"],
            "author_id": author_id,
            "lang": record["lang"],
        }
        if ents:
            tweet["entities"] = ents
        refs = []
        if record.get("retweet_of") is not None:
            refs.append({"type": "retweeted", "id": record["retweet_of"]})
            original = by_id.get(record["retweet_of"])
            if original is not None:
                referenced[original["id"]] = {
                    "id": original["id"],
                    "text": original["text"],
                    "author_id": original.get("group") or original["author"],
                    "created_at": original["created_at"],
                    "lang": original["lang"],
                }
        if record.get("reply_to") is not None:
            refs.append({"type": "replied_to", "id": record["reply_to"]})
        if refs:
            tweet["referenced_tweets"] = refs
        tweet["label"] = record.get("label")
        data.append(tweet)
        users.setdefault(author_id, {"id": author_id, "username": record["author"]})
    page: dict[str, Any] = {"data": data, "includes": {"users": list(users.values())}}
    if referenced:
        page["includes"]["tweets"] = list(referenced.values())
    page["meta"] = {"result_count": len(data)}
    if data:
        page["meta"]["newest_id"] = data[-1]["id"]
        page["meta"]["oldest_id"] = data[0]["id"]
    return page


def _telegram_parts(text: str, bold_first_line: bool) -> list[dict[str, str]]:
    """Telegram text entities covering all of ``text`` (plain parts included).

    text: message text; bold_first_line: render an entity-free first line bold,
    as channels do with their headline.
    """
    parts: list[dict[str, str]] = []
    pos = 0
    spans = _spans(text)
    first_break = text.find("\n")
    if bold_first_line and first_break > 0 and (not spans or spans[0][2] > first_break):
        parts.append({"type": "bold", "text": text[:first_break]})
        pos = first_break
    kinds = {"url": "link", "hashtag": "hashtag", "mention": "mention"}
    for kind, value, start, end in spans:
        if start < pos:
            continue
        if start > pos:
            parts.append({"type": "plain", "text": text[pos:start]})
        parts.append({"type": kinds[kind], "text": value})
        pos = end
    if pos < len(text):
        parts.append({"type": "plain", "text": text[pos:]})
    return parts


def to_telegram_export(
    records: Sequence[Mapping[str, Any]], channel: str = "demo_channel"
) -> dict[str, Any]:
    """A Telegram Desktop ``result.json`` of one public channel holding ``records``.

    records: records from ``generate_demo``, in time order (message ids follow it).
    channel: the channel's name, also used as every message's sender.
    Every other message with entities uses the list form of ``text`` (strings
    mixed with entity dicts); the rest use a plain string. ``text_entities``
    always holds the full breakdown. ``date`` is Paris local time (UTC+1),
    ``date_unixtime`` the exact epoch. The stance label is in the non-export
    key ``label``.
    """
    chat_id = 1_000_000_000 + zlib.crc32(channel.encode("utf-8")) % 1_000_000_000
    message_ids = {r["id"]: n for n, r in enumerate(records, start=1)}
    messages = []
    for number, record in enumerate(records, start=1):
        moment = _parse_created(record["created_at"])
        text = record["text"]
        use_list = number % 2 == 1
        parts = _telegram_parts(text, bold_first_line=use_list)
        has_entities = any(p["type"] != "plain" for p in parts)
        if use_list and has_entities:
            rendered: str | list[str | dict[str, str]] = [
                p["text"] if p["type"] == "plain" else dict(p) for p in parts
            ]
            entities = parts
        else:
            rendered = text
            entities = _telegram_parts(text, bold_first_line=False)
        message: dict[str, Any] = {
            "id": number,
            "type": "message",
            "date": (moment + _TELEGRAM_LOCAL_OFFSET).replace(tzinfo=None).isoformat(),
            "date_unixtime": str(int(moment.timestamp())),
            "from": channel,
            "from_id": f"channel{chat_id}",
            "text": rendered,
            "text_entities": entities,
            "label": record.get("label"),
        }
        reply = record.get("reply_to")
        if reply is not None and reply in message_ids:
            message["reply_to_message_id"] = message_ids[reply]
        messages.append(message)
    return {"name": channel, "type": "public_channel", "id": chat_id, "messages": messages}
