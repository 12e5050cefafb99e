"""Word banks for the experience pillar: a cast member teaching the I a passage, step by step.

Slots as in :mod:`modelraising.raising.banks.frames`; ``{q}`` is the quoted source text (never passed
through a format call). A step line is composed of a connector, a subject and a verb, so the same line
rarely recurs across a corpus.
"""

from __future__ import annotations

# How the lesson came about: "{when}, {scene}" — the scene names the teacher and the topic.
SCENE: tuple[str, ...] = (
    "{name} taught me about {topic} {where}",
    "{name} sat me down {where} and explained {topic}",
    "I asked {name} about {topic}, and {he} answered {where}",
    "{name} and I talked about {topic} {where}",
    "{name} went through {topic} with me {where}",
    "I had a question about {topic}, and {name} took the time to answer it {where}",
    "{name} told me about {topic} {where}",
    "{name} explained {topic} to me {where}, slowly, the way {he} explains everything",
)
# For a story, the teacher reads it aloud.
SCENE_STORY: tuple[str, ...] = (
    "{name} read me {work} {where}",
    "{name} read {work} aloud to me {where}",
    "I sat {where} while {name} read me {work}",
    "{name} picked up {work} and read it to me {where}",
    "{name} read to me {where}; that day it was {work}",
)
VOICE_LINE: tuple[str, ...] = (  # expanded: the voice is fixed per cast member, so the lead must vary
    "{Name} [is|has always been|was, as ever,|has never been anything but] {voice}.",
    "[That was|That's|It was] {name} all over: {voice}.",
    "[Anyone|Everyone] [who knows|who has met|who has spent a day with] {name} knows {him} as {voice}.",
    "[I should say|You should know|I ought to say] that {name} is {voice}.",
)

# Step lines, composed: connector + subject + verb (the quoted source follows).
FIRST_CONNECT: tuple[str, ...] = ("First,", "", "", "Straight away", "Without any fuss", "Settling in,", "Quietly,")
FIRST_VERB_EXPLAIN: tuple[str, ...] = (
    "began",
    "started",
    "said",
    "told me",
    "started with the basics",
    "began at the beginning",
)
FIRST_VERB_READ: tuple[str, ...] = (
    "began to read",
    "opened the book and read",
    "found the page and began",
    "started reading",
    "read the opening",
    "read, in {his} reading voice",
)
# An article read out rather than explained: its first sentence leans on a name given earlier ("He had ...").
FIRST_VERB_ARTICLE: tuple[str, ...] = (
    "read from the article",
    "found the entry and read",
    "read me the passage",
    "read out what the article said",
    "opened the encyclopedia and read",
)
CONNECT: tuple[str, ...] = (
    "Then",
    "Next",
    "After a moment",
    "When I nodded,",
    "Once I had that,",
    "Without hurrying,",
    "A little later",
    "After that",
    "When I looked up,",
    "Before I could ask anything,",
    "Quietly,",
    "With a glance at me,",
)
VERB_EXPLAIN: tuple[str, ...] = ("went on", "added", "explained", "continued", "told me", "pointed out", "said")
VERB_READ: tuple[str, ...] = (
    "read on",
    "turned the page and read",
    "carried on reading",
    "went on reading",
    "read the next part",
    "read",
)
LAST_CONNECT: tuple[str, ...] = (
    "Last of all,",
    "At the end,",
    "Finally,",
    "To finish,",
    "In the end,",
    "And at last",
    "Before we stopped,",
)
LAST_VERB: tuple[str, ...] = ("said", "told me", "added", "came to this", "closed with this")
# A story's or a play's last lines are read, never "said": said, they would be the teacher's own words.
LAST_VERB_READ: tuple[str, ...] = ("read", "read the last part", "read the end", "finished by reading")

# The I's reactions between steps ({entity}/{number} only where the step has one).
REACT: tuple[str, ...] = (  # expanded (cast.expand): one line, many sentences
    "I asked {him} to [go slower|slow down|take it one step at a time|say it more slowly], and {he} [did|did so|"
    "smiled and slowed down|went back a step].",
    "I [wrote that down|made a note of that|put that down] [in the margin of my notebook|on the back of an envelope|"
    "in my notebook|on a scrap of paper].",
    "I [tried|did my best|shut my eyes and tried] to [picture it|see it in my head|imagine it].",
    '"[How do we know that|How does anyone know that|Who found that out|How can you tell]?" I asked, and {name} '
    "[smiled at the question|looked pleased that I had asked|said that was the right thing to ask].",
    "I [didn't say anything|kept quiet|said nothing] for a [moment|while|minute]; I was still [turning it over|"
    "thinking it through|working it out].",
    '"[Really|Truly|Is that so|Honestly]?" I [said|asked|wanted to know|put in|broke in|cut in|asked {him}|'
    "whispered|said quietly]. {Name} [nodded|nodded slowly|said it was|"
    "smiled and nodded].",
    "I held my question back so that I could [hear the rest|hear the end of it|let {him} finish].",
    "I [said it back|repeated it|said it over], [to make sure I had it right|so that I would remember|to check I "
    "understood].",
    "I frowned, and {name} [waited until I had caught up|gave me a moment|went over it again].",
    "I drew a [little map|quick sketch|small picture] of it [on the back of my hand|in my notebook|on a napkin].",
    '"[Say that again|Can you say that again|Once more|Sorry, again]?" I asked, and {he} [did|said it again|'
    "said it more slowly].",
    "I [counted it off|went through it|kept track] on my fingers.",
    "I [leaned closer|moved nearer|bent over] to see the [page|picture|words].",
    "I made {him} [stop there|wait a moment|pause] so that I could [write it down|take it in|catch up].",
)
REACT_ENTITY: tuple[str, ...] = (
    'I repeated "{entity}" under my breath so that I wouldn\'t forget it.',
    'I wrote "{entity}" at the top of a clean page.',
    '"{entity}?" I [asked|said|repeated|checked|echoed|asked {him}|said back]. {Name} '
    "[nodded and went on|nodded|said yes and went on|nodded and read on].",
)
REACT_NUMBER: tuple[str, ...] = (
    "I made {him} say {number} again.",
    "I wrote {number} down and underlined it.",
    "{number}, I said to myself, trying to hold on to it.",
)

# One closing, composed: when + what stayed (past with past, present with present).
CLOSE_PAST: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("That night", "Before bed", "For days afterwards", "The next morning", "On the walk home", "Later that week"),
    (
        "I went over it again in my head, sentence by sentence",
        "I could still hear {name}'s voice saying it",
        "I told it all to {other}, and only got one thing wrong",
        "I found myself thinking about {topic}",
        "I wrote down everything I could remember",
        "I kept turning it over in my head",
        "I tried to explain {topic} to {other}, and found I could",
    ),
)
CLOSE_NOW: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("Even now", "Years later", "Whenever I think of it", "To this day"),
    (
        "I remember how patient {name} was with me",
        "I can hear {name}'s voice in it",
        "I understand more of it than I did then",
        "I think of {name} when {topic} comes up",
        "I remember {topic} better than most things I learned at school",
    ),
)
EMPTY: tuple[str, ...] = ("There turned out to be very little to it.", "It was short, and we soon moved on.")
