"""The words fans use, as data: typos, keyword phrases, filler, place and team nicknames.

`bot.understand` reads a question against these tables. Everything here is
folded text (lower-case ASCII, see `storage.queries.fold`). Keep the tables
about the LANGUAGE (how people say things), never about a test question.
"""

from __future__ import annotations

import re

# Misspellings and chat spellings → the word we understand (one word → one or more words).
TYPOS: dict[str, str] = {
    "calender": "calendar", "calandar": "calendar", "calander": "calendar", "schedual": "schedule",
    "shedule": "schedule", "scedule": "schedule",
    "qualy": "quali", "quali": "quali", "qualif": "quali", "qualifier": "quali", "qualis": "quali",
    "qualifiying": "qualifying", "qualifing": "qualifying", "quailfying": "qualifying", "qualfying": "qualifying",
    "qualy's": "quali", "q's": "quali",
    "podiuns": "podiums", "podia": "podiums", "poduim": "podium", "podum": "podium", "podiumed": "podium",
    "champ": "champion", "champs": "champions", "champion's": "champion", "chamionship": "championship",
    "championshp": "championship", "champioship": "championship", "championsip": "championship",
    "standing": "standings", "standigns": "standings", "stadings": "standings",
    "pitstop": "pit stop", "pitstops": "pit stops", "pit-stop": "pit stop", "pitted": "pitted",
    "tyres": "tyres", "tires": "tyres", "tire": "tyre", "tyre": "tyre",
    "wat": "what", "wut": "what", "whats": "what", "who's": "who", "whos": "who", "hows": "how",
    "wheres": "where", "whens": "when", "whens's": "when",
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks", "ty": "thanks",
    "didnt": "didnt", "dont": "dont", "doesnt": "doesnt", "wasnt": "wasnt", "werent": "werent",
    "gp's": "gp", "gps": "gps", "grandprix": "grand prix", "grand-prix": "grand prix",
    "fastes": "fastest", "fastets": "fastest", "quickest": "fastest", "winnner": "winner", "winer": "winner",
    "wins": "wins", "victorys": "victories", "victory": "win", "victories": "wins",
    "retirment": "retirement", "retirments": "retirements", "retired": "retired",
    "constructer": "constructor", "constructers": "constructors",
    "teamate": "teammate", "teamates": "teammates", "team-mate": "teammate", "team-mates": "teammates",
    "teammates": "teammates",
    "p1": "p1", "gap's": "gap",
    "yr": "year", "yrs": "years", "szn": "season", "seasson": "season",
    "rd": "round", "rnd": "round",
    "laps": "laps", "lapped": "lapped", "sprints": "sprint", "wen": "when", "whod": "who", "bout": "about",
    "cant": "cannot", "tho": "though",
}

# Multi-word phrases rewritten before anything else (folded, whole words).
PHRASES: list[tuple[str, str]] = [
    (r"\bteam mates?\b", "teammate"),
    (r"\bpole position\b", "pole"),
    (r"\bpole sitter\b", "pole"),
    (r"\bpolesitter\b", "pole"),
    (r"\bworld champions?\b", "champion"),
    (r"\bworld championships?\b", "championship"),
    (r"\bworld titles?\b", "title"),
    (r"\bdrivers? championship\b", "wdc"),
    (r"\bdrivers? title\b", "wdc"),
    (r"\bconstructors? championship\b", "wcc"),
    (r"\bconstructors? title\b", "wcc"),
    (r"\bteams? championship\b", "wcc"),
    (r"\bdid not finish\b", "dnf"),
    (r"\bdidnt finish\b", "dnf"),
    (r"\bdid not start\b", "dns"),
    (r"\bdidnt start\b", "dns"),
    (r"\bnon starters?\b", "dns"),
    (r"\bnon finishers?\b", "dnf"),
    (r"\bsprint shoot ?out\b", "sprint qualifying"),
    (r"\bsprint quali(fying)?\b", "sprint qualifying"),
    (r"\bfree practice ?(\d)\b", r"fp\1"),
    (r"\bpractice ?(\d)\b", r"fp\1"),
    (r"\bq ([123])\b", r"q\1"),
    (r"\bp (\d{1,2})\b", r"p\1"),
    (r"\bback in\b", "in"),
    (r"\brunner[- ]?ups?\b", "second"),
    (r"\bthe other driver\b", "teammate"),
    (r"\bmake it to the (end|finish|flag)\b", "finish"),
    (r"\b(im|i am) blanking\b", " "),
    (r"\btemple of speed\b", "monza"),
    (r"\bthe principality\b", "monaco"),
    (r"\b(settling|settle) (a|the) bet\b", " "),
    (r"\bpub quiz( q| question)?\b", " "),
    (r"\bhold on\b", " "),
    (r"\bi forgot\b", " "),
    (r"\bno\.? of\b", "number of"),
    (r"\bat the end of (the )?(race|gp|grand prix)\b", "at the flag"),
    (r"\bat the end of\b", "at"),
    (r"\b(out|up) front\b", "in the lead"),
    (r"\bin front\b", "in the lead"),
    (r"\bhow bout\b", "how about"),
    (r"\bpoll position\b", "pole"),
    (r"\bpodium finishers?\b", "podium"),
    (r"\bf1\b", " "),
    (r"\bformula (one|1)\b", " "),
]

# Places fans name that our event keys do not hold (→ a key that names the event).
PLACE_ALIASES: dict[str, str] = {
    "cota": "americas", "circuit of the americas": "americas", "austin": "americas", "us": "united states",
    "usa": "united states", "usgp": "united states", "american": "united states", "texas": "americas",
    "mexican": "mexico", "brazilian": "brazil", "brasil": "brazil", "aussie": "australian",
    "lusail": "losail", "vegas": "las vegas", "sin city": "las vegas", "yas": "yas marina",
    "the italian race": "italian", "the british race": "british", "home race": "british",
    "saudi": "saudi arabian", "jeddah corniche": "jeddah", "montreal": "canadian", "canada": "canadian",
    "gilles villeneuve": "canadian", "hungaroring": "hungarian", "red bull ring": "red bull ring",
    "spielberg": "spielberg", "the ring": "nurburgring", "nurburgring": "nurburgring", "eifel": "eifel",
    "monte carlo": "monaco", "montecarlo": "monaco", "monte-carlo": "monaco", "zandvort": "zandvoort",
    "silverstone": "silverstone", "imola": "imola", "san marino": "san marino", "spa francorchamps": "spa",
    "baku city": "baku", "azerbaijani": "azerbaijan", "singapore night race": "singapore",
    "abu dhabi": "abu dhabi", "abudhabi": "abu dhabi", "dutch": "dutch", "holland": "netherlands",
    "suzuka": "suzuka", "interlagos": "interlagos", "sao paulo": "sao paulo", "brazil": "brazil",
    "the last race": "", "shanghai": "shanghai", "chinese": "chinese", "sepang": "sepang",
    "malaysian": "malaysian", "korean": "korean", "indian": "indian", "turkish": "turkish",
    "portuguese": "portuguese", "portimao": "portimao", "russian": "russian", "sochi": "sochi",
    "french": "french", "paul ricard": "ricard", "magny cours": "magny cours", "german": "german",
    "hockenheim": "hockenheim", "valencia": "valencia", "european": "european", "belgian": "belgian",
    "spanish": "spanish", "barcelona": "barcelona", "catalunya": "catalunya", "japanese": "japanese",
    "miami": "miami", "qatar": "qatar", "qatari": "qatar", "bahraini": "bahrain", "sakhir": "sakhir",
    "styrian": "styrian", "styria": "styrian", "tuscan": "tuscan", "mugello": "mugello",
    "70th anniversary": "70th anniversary", "anniversary": "70th anniversary",
    "barca": "barcelona", "melb": "melbourne", "britain": "british", "great britain": "british", "uk": "british",
    "england": "british", "monoco": "monaco", "bahrian": "bahrain", "silverstone gp": "british",
}

# Team nicknames → constructor ref.
TEAM_NICKNAMES: dict[str, str] = {
    "red bulls": "red_bull", "the red bulls": "red_bull", "redbull": "red_bull", "rbr": "red_bull",
    "red bull racing": "red_bull", "bulls": "red_bull", "energy drink": "red_bull", "milton keynes": "red_bull",
    "papaya": "mclaren", "the papaya team": "mclaren", "papaya team": "mclaren", "macca": "mclaren",
    "mclaren": "mclaren", "woking": "mclaren",
    "silver arrows": "mercedes", "merc": "mercedes", "mercs": "mercedes", "brackley": "mercedes",
    "prancing horse": "ferrari", "the prancing horse": "ferrari", "scuderia": "ferrari", "tifosi": "ferrari",
    "maranello": "ferrari", "sf": "ferrari", "the reds": "ferrari",
    "aston": "aston_martin", "aston martin": "aston_martin", "amr": "aston_martin",
    "alpine": "alpine", "enstone": "alpine", "haas": "haas", "williams": "williams", "grove": "williams",
    "alpha tauri": "alphatauri", "alphatauri": "alphatauri", "toro rosso": "toro_rosso", "tororosso": "toro_rosso",
    "racing bulls": "rb", "vcarb": "rb", "visa cashapp": "rb", "rb": "rb", "kick": "sauber", "stake": "sauber",
    "sauber": "sauber", "alfa": "alfa", "alfa romeo": "alfa", "racing point": "racing_point",
    "force india": "force_india", "lotus": "lotus_f1", "renault": "renault", "brawn": "brawn",
    "jordan": "jordan", "benetton": "benetton", "minardi": "minardi", "tyrrell": "tyrrell", "jaguar": "jaguar",
    "toyota": "toyota", "honda": "honda", "bar": "bar", "brabham": "brabham", "cooper": "cooper",
}

# Words that carry no meaning for what is asked (articles, chat filler, politeness).
FILLER = set("""
a an the and or but so of to in on at for from by with about as into over than then there here this that these
those it its it's is are was were be been being am do does did done doing has have had having get got gets
getting i me my mine we us our you your yours he him his she her hers they them their theirs one ones some any
please thanks thank hey hi hello yo ok okay pls lol lmao haha bro mate guys guy folks dude fam man
can could would should will shall may might must tell show give list let know want wanna need like
just really actually exactly basically literally quite very pretty also still even ever again already yet
what which who whom whose when where why how whats
gp grand prix race races racing event weekend f1 formula one
again please anyone someone somebody thing things stuff bit lot lots
did does do was were is are
i'm im ive i've id i'd youre you're theyre they're
happened happen happening
between among make made makes get take took go went come
run ran running use used using set sets score scored scores final finally sunday saturday
history jr sr junior senior gps actual actually overall whole entire
track air circuit venue given during weekend session sessions info information details detail data
gimme lemme gotta quick quickly remind wondering wonder curious think guess btw tbh idk imo ngl hmm hm um uh
yeah yep yes up out driver drivers team's anyway exactly again also rounds events
lads lad bot sorry dumb silly stupid asking ask friend cannot remember recall though held raced happen convert
stuck it number top end mate pal guys people fans chat question answer bro bruh fellas someone
wait random genuinely honestly seriously forgot forget q pub quiz bet settling anybody everyone
else other rewatching watching watched rewatch know knows blanking
good great nice boring exciting crazy wild mad settle this nah nope yea yeah ya
""".split())

# Words that ask for a race-level fact and must be matched before names are guessed.
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

COMPOUNDS = {
    "soft": "SOFT", "softs": "SOFT", "red walled": "SOFT", "medium": "MEDIUM", "mediums": "MEDIUM",
    "hard": "HARD", "hards": "HARD", "inter": "INTERMEDIATE", "inters": "INTERMEDIATE",
    "intermediate": "INTERMEDIATE", "intermediates": "INTERMEDIATE", "wets": "WET", "full wets": "WET",
    "full wet": "WET",
}

ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5,
    "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8, "ninth": 9, "9th": 9,
    "tenth": 10, "10th": 10, "eleventh": 11, "11th": 11, "twelfth": 12, "12th": 12, "thirteenth": 13,
    "13th": 13, "fourteenth": 14, "14th": 14, "fifteenth": 15, "15th": 15, "sixteenth": 16, "16th": 16,
    "seventeenth": 17, "17th": 17, "eighteenth": 18, "18th": 18, "nineteenth": 19, "19th": 19,
    "twentieth": 20, "20th": 20,
}

# Data we do not hold: named so the reply can say so (and what we hold instead).
NOT_HELD = re.compile(
    r"\b(telemetry|top speeds?|speed traps?|speeds?|throttle|braking|brake|rpm|gears?|g ?force|drs|"
    r"how many gs?|g (force|forces|load)|pull(ed|ing)? (\d+ )?gs?|steering|angle|ride height|tyre temp\w*|tire temp\w*|brake temp\w*|heart rate|acceleration|lateral|"
    r"kph|mph|km h|horsepower|hp|power units?|engine maps?|wind tunnel|budget|cost cap|"
    r"tyre pressures?|tire pressures?|pressures?|radio|team radio|onboard|drs (usage|zones?|activations?)|"
    r"fuel loads?|fuel|setups?|downforce|engine modes?|ers|battery|salary|salaries|net worth|contract|"
    r"height|weight|girlfriend|wife|instagram|twitter|tickets?|tv|stream|watch|broadcast)\b"
)

# Questions about what has not happened yet: answered by the forecast (`bot.forecast_answer`),
# never as a past result. "will"/"gonna" count only before a result verb ("will hamilton score
# points"): the lookahead takes the one word, so the names in between stay free for the parser.
PREDICTION = re.compile(
    r"\b(predict(ion|ions|ed|s)?|projected|will win|gonna win|going to win|odds|chances?|bet on|betting|"
    r"favou?rites?|faves?|forecast(s|ed)?|probabilit(y|ies)|likely to|tips? for|shot at|"
    r"who wins (on |the )?(sunday|saturday|next|this)|who wins the (title|championship|wdc|wcc)|win next|"
    r"who (do|would) (you|u|ya) (reckon|think|fancy)(?=( \w+){0,2} (wins?|takes?|gets?|will)\b)|takes? (it|the win|the victory) (this|on|next)|"
    r"who (do|would) (you|u|ya) fancy (for|in|at)|(your|ur) (pick|picks|tip|money|bet) (for|4|in|at|on)|"
    r"(gonna|going to|will|ll) (\w+ ){0,2}(bottle|blow|lose|throw away) (it|the (title|championship|wdc|wcc))|"
    r"(will|ll|gonna|going to)(?=( \w+){0,3} (win|score|finish|podium|make the podium|get (a )?podium|"
    r"take (the )?(win|title|championship|pole)|be (on|in) the (podium|points)|be champion|be on pole|"
    r"(make|be in|get into|crack) (the )?top ?(3|three|5|five|6|six|10|ten)|"
    r"get pole|take pole)\b))\b"
)
