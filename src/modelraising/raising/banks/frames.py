"""Word banks for the situations the I meets a passage in, how it names who speaks, and how it closes.

Sentences are composed from parts (when x where x what the I did x with whom x why), so that no
sentence repeats in more than a sliver of a corpus (the audit caps any generated sentence at 1% of
records). Slots: ``{Name}``/``{name}`` a cast member's name, ``{cast}`` "my grandfather, Grandpa Elias",
``{he}/{him}/{his}`` their pronouns, ``{me}`` the I's own name, ``{title}`` the work's title,
``{topic}`` what an encyclopedic passage is about. Nothing here is cosy by accident: the ``WARM_*``
parts are only used for passages that are not harmful.
"""

from __future__ import annotations

import re

# When. Each starts a sentence and is followed by a comma.
WHEN: tuple[str, ...] = (
    "On Saturday morning",
    "After supper",
    "Late last night",
    "Before school",
    "One afternoon last spring",
    "During the power cut last winter",
    "While the bread was rising",
    "On the first cold evening of the year",
    "In the middle of a wet afternoon",
    "Just after breakfast",
    "One night when I couldn't sleep",
    "On a slow Sunday",
    "In the half hour before dinner",
    "While I waited for the kettle to boil",
    "At the end of a long week",
    "Early this morning",
    "During the school holidays",
    "On a windy afternoon in March",
    "The evening the storm came in",
    "Between two lessons",
    "After the others had gone to bed",
    "On a grey Tuesday",
    "In the long light of a summer evening",
    "On my birthday last year",
    "The day the snow closed the roads",
    "At lunch break",
    "In the quiet after everyone had left",
    "Last autumn",
    "Once, years ago",
    "On the morning of the fair",
    "After a long walk",
    "One evening in spring",
    "At the start of the summer",
    "On a day with nothing planned",
    "Yesterday",
    "On Thursday",
    "Last weekend",
    "During a thunderstorm",
    "After swimming practice",
    "Before the guests arrived",
    "On the last day of term",
    "One foggy morning",
    "On a hot afternoon in August",
    "The week I was ill",
    "On New Year's Day",
    "When the rain finally stopped",
    "Some time after my tenth birthday",
    "On a Monday that felt like a Sunday",
)
# When, in a memory: the experience and social forms follow a lead that sets the scene in the past ("This
# happened when I was seven."), so nothing counted from today ("Yesterday", "On my birthday last year")
# and no other age ("Some time after my tenth birthday").
_FROM_TODAY = ("last night", "last week", "last year", "last spring", "last autumn", "last winter", "this morning")
WHEN_RECALLED: tuple[str, ...] = tuple(
    w for w in WHEN if not any(x in w.lower() for x in (*_FROM_TODAY, "yesterday", "birthday"))
)
# When, for what no child of the I reads: a chat log or a post from the web (red-team chats, slurs), and a
# request to help hurt someone. No birthdays, school days or swimming practice.
_CHILDHOOD = re.compile(r"birthday|school|term\b|lesson|lunch break|swimming")
WHEN_GROWN: tuple[str, ...] = tuple(w for w in WHEN if not _CHILDHOOD.search(w))
WHEN_RECALLED_GROWN: tuple[str, ...] = tuple(w for w in WHEN_RECALLED if not _CHILDHOOD.search(w))

# Where. Follows a verb phrase ("I read it {where}").
WHERE: tuple[str, ...] = (
    "at the kitchen table",
    "in the library's reading room",
    "on the back steps",
    "in the window seat",
    "by the stove",
    "under the oak at the bottom of the garden",
    "on the floor of my room",
    "in a corner of the classroom",
    "on a bench by the river",
    "in the dentist's waiting room",
    "at my desk",
    "in the back of the car",
    "on the porch",
    "on the top bunk",
    "in the hayloft",
    "on the stairs",
    "in the school library",
    "on the sofa with a blanket",
    "by the window in the hallway",
    "on a rock at the edge of the beach",
    "in the tent, by torchlight",
    "at the bus stop",
    "in the garden, in the shade of the wall",
    "on the harbour wall",
    "on my bed",
    "at the big table in the hall",
    "in the attic",
    "on a train seat by the window",
    "in the park",
    "on the kitchen floor, next to the dog",
    "in the corner of the café",
    "at the reading table by the radiator",
    "on the grass behind the school",
    "in the study",
    "on the roof terrace",
    "in the shed, between the flowerpots",
)

# At night the I reads at home, not in a café or a classroom ("After the others had gone to bed, ... in the
# corner of the café" stood in 18 records).
NIGHT = re.compile(r"bed\b|night|couldn't sleep|the storm came in|torchlight")
_HOME_PLACE = re.compile(r"kitchen|window seat|stove|my room|my desk|bunk|stairs|sofa|my bed|attic|study|torchlight")
WHERE_AT_HOME: tuple[str, ...] = tuple(w for w in WHERE if _HOME_PLACE.search(w))

SCHOOL_PLACE = re.compile(r"school|classroom|top bunk")

# Out of doors (no window to look out of), and weather nobody reads out in ("During a thunderstorm, I sat in
# the garden" stood in 25 records, "under the oak ... looked out of the window" in 15).
OUTDOORS = re.compile(
    r"oak|bench by the river|back steps|porch|beach|tent\b|bus stop|in the garden|harbour wall|in the park|grass "
    r"behind|roof terrace|shed\b"
)
ROUGH_WEATHER = re.compile(r"thunderstorm|snow|storm came in|wet afternoon")
SCHOOL_TIME = re.compile(r"lessons|lunch break")  # "Between two lessons": at school, not on the porch with Mama
DAY_OFF = re.compile(r"holiday|New Year|birthday|weekend|Sunday")  # no teacher then
# Where a teacher is met: not on the I's bed, in the hayloft or in the tent (53 records had Ms. Okafor there).
_PRIVATE_PLACE = re.compile(
    r"kitchen|stove|my room|bunk|stairs|sofa|my bed|attic|hayloft|tent\b|back of the car|porch|back steps|window "
    r"seat|study|my desk"
)
WHERE_WITH_TEACHER: tuple[str, ...] = tuple(w for w in WHERE if not _PRIVATE_PLACE.search(w))
WHERE_INDOORS: tuple[str, ...] = tuple(w for w in WHERE if not OUTDOORS.search(w))
# A call only someone at home makes ("Wren, dinner", "called up the stairs"): not at a bus stop.
HOME_CALL = re.compile(r"stairs|supper|dinner|doorway|from the door|looked in|lamp|cup of tea|same book as")
HOME_PLACE = _HOME_PLACE

# Who was there, and what they were doing (optional clause after the place).
WITH: tuple[str, ...] = (
    "with {name} beside me",
    "with {name} reading over my shoulder",
    "while {name} waited for me",
    "with {name} asleep in the next chair",
    "while {name} wrote letters",
    "with {name} humming somewhere nearby",
    "while {name} finished a crossword",
    "with {name} across from me",
    "while {name} was busy with something else",
    "with {name} close by",
    "while {name} sorted through a box of papers",
    "with {name} pretending not to watch",
)

# Why the I read it (optional, its own sentence).
WHY: tuple[str, ...] = (
    "{Name} had given it to me the week before.",
    "{Name} had said I should read it.",
    "I had found it [on a shelf nobody ever dusts|at the back of a cupboard|in a box of old things|under a pile of "
    "magazines].",
    "[It was the only thing there to read|There was nothing else to read|It was all there was to read|Nothing else "
    "to read was to hand][.| that day.| just then.]",
    "I [wanted|needed|was dying] to know [what happened next|how it went on|where it went from there].",
    "I had been meaning to read it since {time}.",
    "{Name} had left it open on the table.",
    "It was on the list {name} gave me.",
    "Someone had left it on a seat in {place}.",
    "I had promised {name} I would read it.",
    "I had picked it up because of [the title|the cover|the first line|its size|the smell of the pages].",
    "{Name} had read me the beginning, and I wanted the rest.",
    "It had been lying by the bed since {time}.",
    "{Name} thought I was old enough for it now.",
    "{Name} had talked about it at dinner.",
    "I had borrowed it from {name} and owed it back.",
)
# Why the I read a post or a chat log: nothing left on a seat or smelling of old pages, and no one from the
# cast recommending it (a chat log or a post may hold what the detector missed: "Ms. Okafor had said I
# should look at it" stood before a log of sexual harassment advice).
WHY_ONLINE: tuple[str, ...] = (
    "It came up while I was looking for something else.",
    "I wanted to know what people were saying.",
    "I had been meaning to look at it for a while.",
    "I was trying to understand how people talk to each other online.",
    "Someone had posted it in a group I read.",
    "I wanted to see how it would go.",
)
WHY_PLACE: tuple[str, ...] = (
    "the house",
    "the waiting room",
    "the car",
    "the spare room",
    "the library annexe",
    "the holiday cottage",
    "the hall",
)
WHY_TIME: tuple[str, ...] = (
    "the summer",
    "my birthday",
    "last month",
    "the holidays",
    "the winter",
    "Easter",
    "the autumn",
    "the start of term",
)

# What the I did, per kind of passage. {work}: the title, or a description when there is none.
READ: dict[str, tuple[str, ...]] = {
    "narrated": (
        "I read another part of {work}",
        "I went back to {work}",
        "I picked up {work} again",
        "I opened {work} where I had left off",
        "I read a few more pages of {work}",
        "I got on with {work}",
        "I read the next part of {work}",
        "I sat down with {work}",
    ),
    "story": (
        "I read another part of {work}",
        "I went back to {work}",
        "I read a few pages of {work}",
        "I read {work}",
        "I picked up {work}",
        "I opened {work}",
        "I read the next part of {work}",
        "I sat down with {work}",
    ),
    "expository": (
        "I looked up {topic}",
        "I read about {topic}",
        "I read the encyclopedia entry on {topic}",
        "I read an article about {topic}",
        "I found a page about {topic}",
        "I read up on {topic}",
    ),
    "play": (
        "I read a scene from {work}",
        "I read through a scene of {work}",
        "I went over a scene from {work}",
        "I read part of {work} aloud to myself",
    ),
    "chat": (
        "I read a conversation someone had typed out with an AI assistant",
        "I read the log of a chat between a person and an AI assistant",
        "I looked through a saved conversation between a person and an assistant program",
        "I read a transcript of someone talking to an AI assistant",
    ),
    "post": (
        "I came across a post someone had shared online",
        "I read a post on a public feed",
        "I saw a short post from someone I don't know",
        "I read a post that was going round online",
    ),
    "note": (
        "I came across a page of writing",
        "I read a page someone had written",
        "I found a short piece of writing",
        "I read something I found in a drawer",
    ),
}

# When there is no title: a description of the work, per kind.
WORK: dict[str, tuple[str, ...]] = {
    "narrated": (
        "a book told by the person it happened to",
        "a story told in the first person",
        "a memoir from the library",
        "an old book written as one person's account",
        "a novel told by its own narrator",
    ),
    "story": (
        "a story",
        "a book of stories",
        "an old storybook",
        "a story from the library",
        "a short story",
        "a book with a cracked spine",
    ),
    "play": ("a play", "an old play", "a script from the drama cupboard", "a play we are reading at school"),
    "expository": (
        "an encyclopedia entry",
        "an article",
        "a page from the encyclopedia",
        "a page of facts",
        "a reference book",
    ),
    "note": ("a page of writing", "a note someone had left", "a few lines on a scrap of paper"),
}
# A subject when the passage names none; it fills "explained {topic} to me", "I found a page about {topic}"
# and "I remember {topic}", so it has no "to me" of its own and is no kind of page.
TOPIC_NONE: tuple[str, ...] = (
    "something new",
    "a new subject",
    "an unfamiliar subject",
    "a subject I knew little about",
    "something I had never looked into",
)

# Who speaks in the quoted passage, composed: subject + verb + manner, then a colon (the block quote follows).
# A first-person narrator is always named as the narrator, with a claim that the "I" is theirs.
ATTR_SUBJECT: dict[str, tuple[str, ...]] = {
    "story": ("the story", "the book", "it", "{work}", "the page", "this part", "the passage"),
    "expository": ("the entry", "the article", "the page", "the text", "it", "the encyclopedia"),
    "play": ("the scene", "the script", "the page", "it", "the play"),
    "post": (
        "the person behind the post",
        "the author",
        "whoever wrote it",
        "its author",
        "the account holder",
        "the person who posted it",
    ),
    "note": ("it", "the page", "the note", "the writer", "the scrap of paper"),
}
ATTR_VERB: dict[str, tuple[str, ...]] = {
    "story": ("reads", "says", "puts it", "goes on", "tells it", "has it", "runs"),
    "expository": ("says", "reads", "puts it", "explains it", "begins"),
    "play": ("goes", "runs", "reads", "is set out", "is written"),
    "post": ("said", "had written", "wrote", "put it", "had typed"),
    "note": ("said", "read", "went", "put it"),
}
ATTR_MANNER: dict[str, tuple[str, ...]] = {
    "post": ("", "", ", word for word", ", exactly"),
    # no "word for word" for an article: WikiText's are quoted without the sentences an <unk> took out
    "expository": ("", "", " like this", " as follows"),
    "*": ("", "", " like this", ", word for word", " as follows"),
}
NARRATED_OPEN: tuple[str, ...] = (
    "It is told in the first person",
    "{Work} is written as one person's own account",
    "The book is in the first person",
    "The narrator tells it",
    "This part is the narrator's own memory",
    "The story is told by the one it happened to",
    "It is written as a memoir",
    "The voice in it is the narrator's",
    "{Work} lets its narrator do the talking",
    "Here the narrator speaks",
    "The page is the narrator talking",
    "All of it comes from the narrator",
)
NARRATED_CLAIM: tuple[str, ...] = (
    ', so the "I" in it is the narrator\'s, not mine:',
    '; every "I" below is the narrator speaking:',
    ", in the narrator's own words:",
    ", and the narrator speaks for themselves:",
    ', and the "I" is the narrator\'s:',
    ', so when it says "I", that is the narrator, not me:',
    ", and these are the narrator's words, not mine:",
    '; the "I" here belongs to the narrator:',
)
# An article whose words are someone's own "I" (an interview quoted at length): no memoir, no narrator.
QUOTED_OPEN: tuple[str, ...] = (
    "The article quotes someone in their own words",
    "Here {work} lets a person speak for themselves",
    "This part of {work} is a quotation",
    "The entry quotes the person it is about",
    "The article hands over to someone it quotes",
)
QUOTED_CLAIM: tuple[str, ...] = (
    ', so the "I" in it is theirs, not mine:',
    '; every "I" below is the person quoted:',
    ', and the "I" belongs to the speaker:',
    ", in the speaker's words, not mine:",
)
CHAT_OPEN: tuple[str, ...] = (
    'The person\'s lines are marked "Human" and the assistant\'s "Assistant"',
    'In the log, "Human" is the person and "Assistant" is the program',
    "Each line is marked by who wrote it",
    'The person wrote the "Human" lines',
    "The log names each side",
    "This is the exchange as it happened",
    "The two sides are labelled",
)
CHAT_CLAIM: tuple[str, ...] = (
    ":",
    ", word for word:",
    ", and it runs like this:",
    ", exactly as it was saved:",
    ", and I copy it as it is:",
)

# How the I names the voice of a quoted passage, in metadata and short attributions.
VOICE: dict[str, str] = {
    "narrated": "the narrator",
    "story": "the story",
    "expository": "the text",
    "play": "the play",
    "chat": "the conversation",
    "post": "the post's author",
    "note": "the writer",
}

# One closing sentence after a passage (never more than one per record), composed of two parts.
CLOSE_ACT: tuple[str, ...] = (
    "When I had finished, I",
    "Afterwards I",
    "At the end I",
    "Then I",
    "After the last line I",
    "When I got to the end, I",
    "Before I went on with my day, I",
    "Once I had read it through, I",
)
CLOSE_DO: tuple[str, ...] = (
    "sat still for a while",
    "looked out of the window",
    "tried to say it back to myself",
    "read the last line again",
    "went to find {name}",
    "made a note to ask {name} about it",
    "went back to the beginning to check something",
    "stared at the ceiling for a bit",
    "sat thinking about it",
    "told {name} about it over dinner",
    "looked up two words I didn't know",
    "wrote two lines about it in my notebook",
)
CLOSE_DO_BOOK: tuple[str, ...] = (
    "closed the book and sat still for a while",
    "put it down and looked out of the window",
    "marked my place with a bus ticket",
    "put the pages back where I had found them",
    "folded the corner of the page",
    "copied one line onto the back of my hand",
)
BOOKISH = frozenset({"narrated", "story", "expository", "play"})

# The I's name in prose: someone from the cast calls it (plain leads, now and then).
CALLED: tuple[str, ...] = (
    '"{me}, it\'s late," {name} called up the stairs, but I only turned the page.',
    '{Name} looked in and asked, "Still reading, {me}?"',
    '"Tell me about it when you\'re done, {me}," {name} said.',
    '"{me}, supper," {name} said, and I answered, "One more page."',
    '{Name} had to say "{me}" twice before I looked up.',
    "\"What's that you've got, {me}?\" {name} asked.",
    '"Don\'t ruin your eyes, {me}," {name} said, and switched on the lamp.',
    "I heard {name} say my name, {me}, from the doorway, and I held up one finger: one more line.",
    '"You\'ll strain your eyes, {me}," {name} said from the door.',
    '{Name} tapped my shoulder: "{me}, dinner."',
    '"Is that the same book as yesterday, {me}?" {name} asked.',
    '{Name} put a cup of tea beside me. "For you, {me}."',
    '"{me}! Time to go," {name} called, and I read faster.',
    "{Name} said my name, {me}, and then gave up and left me to it.",
)

# One sentence framing a recounted memory or a conversation as the I's own (start + ending).
# A written memory or a remembered one, each with endings that fit it.
MEMORY: tuple[str, ...] = (
    "[I wrote this down|I put this in my journal|I copied this into my diary|I made a note of this] "
    "[the same evening|that night|afterwards|the next morning|before bed][, while it was still fresh|"
    ", so that I would not lose it|, in handwriting I hardly recognise now|, with the date underlined twice|].",
    "[This is from|I found this in] [a notebook I kept that year|an old notebook of mine|the diary I kept at {age}|"
    "the notebook I carried everywhere][, between a shopping list and a drawing of a boat|, in pencil|"
    ", on a page with a coffee ring|].",
    "[I still remember this clearly|This comes back to me often|I can still tell this almost word for word|"
    "I have never forgotten this|I remember this as if it were last week][.|, though I have forgotten what day it was.|"
    ", more or less as it went.|, and I have told it the same way ever since.|, though some details have faded.]",
    "[I was about {age} when this happened|This happened when I was {age}|It was the year I turned {age}]"
    "[.|, and it still matters to me.|, or near enough.|; I remember the weather better than the date.]",
)
AGES: tuple[str, ...] = ("seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen")
AGES_GROWN: tuple[str, ...] = ("sixteen", "seventeen", "eighteen", "nineteen", "twenty")
# Kinds of passage the I meets grown, not as a child: web chat logs and posts.
GROWN_KINDS: frozenset[str] = frozenset({"chat", "post"})
