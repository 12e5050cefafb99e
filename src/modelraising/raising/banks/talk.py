"""Word banks for the social pillar: conversations the I has about a passage with someone from its cast.

Lines are composed (a reaction, a question, an address by name), so short lines like "What happened
next?" do not repeat across a corpus. ``{q}`` never goes through a format call; the other slots are as
in :mod:`modelraising.raising.banks.frames`.
"""

from __future__ import annotations

SETTINGS: dict[str, tuple[str, ...]] = {"mentor": ("mentor", "teacher"), "peers": ("peer",), "family": ("family",)}

# Narration that opens a conversation: "{when}, {together}."
TOGETHER: dict[str, tuple[str, ...]] = {
    "listen": (
        "{name} read me {work} {where}",
        "{name} read {work} aloud to me {where}",
        "I asked {name} to read me {work} {where}",
        "{name} found me {where} and read me some of {work}",
        "{name} wanted me to hear {work}, so {he} read it to me {where}",
    ),
    "explain": (
        "I read {work} to {name} {where}",
        "{name} asked me what {work} said, and I read it out {where}",
        "{name} found me {where} with {work} and asked me to read it out",
        "I brought {work} to {name} {where} and read it aloud",
    ),
    "alternate": (
        "{name} and I took turns reading {work} {where}",
        "{name} and I read {work} together {where}, a bit each",
        "{name} and I shared {work} {where}, passing it back and forth",
    ),
    "learn": (
        "{name} and I talked about {topic} {where}",
        "I asked {name} about {topic} {where}",
        "{name} and I looked up {topic} together {where}",
        "{name} wanted to know about {topic}, so we read about it {where}",
        "I had been reading about {topic}, and {name} asked me to go through it {where}",
    ),
    "show": (
        "{name} showed me {work} {where}",
        "{name} held out {his} phone {where} and showed me {work}",
        "{name} had found {work} and wanted to know what I made of it",
        "{name} read me {work} {where}",
    ),
}
WORK_SOCIAL: dict[str, tuple[str, ...]] = {
    "chat": (
        "a conversation someone had typed out with an AI assistant",
        "a saved chat between a person and an assistant",
        "the log of a conversation with an AI program",
    ),
    "post": ("a post someone had shared online", "a post from a stranger's feed", "a post that was going round"),
    "play": ("a scene from a play", "a scene we were reading at school", "an old play"),
    "narrated": ("a book told by its narrator in the first person", "a memoir", "a story told in the first person"),
}

# Asking to hear it (the I) / to be told (the partner): modal + request, then maybe a name.
HEAR_MODAL: tuple[str, ...] = ("Will you", "Can you", "Could you", "Would you", "Won't you")
HEAR_ASK: tuple[str, ...] = (
    "read it to me",
    "go through it with me",
    "read me the start",
    "read it out",
    "start at the beginning",
    "read me some of it",
    "show me the first part",
    "read it slowly",
)
TELL_LEAD: tuple[str, ...] = ("So", "Well", "Go on", "Okay", "Right", "All right", "Come on")
TELL_ASK: tuple[str, ...] = (
    "what's it about?",
    "tell me.",
    "what does it say?",
    "read me some of it.",
    "let's hear it.",
    "what have you got there?",
    "start from the beginning.",
    "what are you reading?",
)

# Cues for a turn that carries source text, composed: connector + subject + verb. The I's turns always
# say that they read.
READ_CONNECT: tuple[str, ...] = ("", "", "Then ", "Next ", "And ", "Here ", "Now ", "After that ")
SELF_SUBJECT: tuple[str, ...] = (
    "it",
    "the book",
    "the next bit",
    "this part",
    "the page",
    "the next line",
    "the next part",
    "the text",
    "the line after that",
    "the bit after that",
    "the passage",
    "the paragraph",
    "the writing",
)
# The I's first reading: no "the bit after that" and no "runs on" before anything was read.
SELF_SUBJECT_FIRST: tuple[str, ...] = (
    "it",
    "the book",
    "this part",
    "the page",
    "the text",
    "the passage",
    "the writing",
)
SELF_VERB_FIRST: tuple[str, ...] = ("says", "reads", "has it", "puts it", "begins", "starts")
SELF_VERB: tuple[str, ...] = (
    "says",
    "goes on",
    "reads",
    "continues",
    "runs on",
    "carries on",
    "keeps going",
    "has it",
    "puts it",
)
PARTNER_SUBJECT: dict[str, tuple[str, ...]] = {
    "narrated": (
        "the narrator",
        "the storyteller",
        "the voice in the book",
        "the book's narrator",
        "the story's own narrator",
    ),
    "story": (
        "it",
        "the story",
        "the book",
        "the next part",
        "the tale",
        "the page",
        "the next bit",
        "this part",
        "the next page",
        "the bit after that",
        "the line after that",
    ),
    "expository": (
        "it",
        "the entry",
        "the article",
        "the next part",
        "the page",
        "the text",
        "the next bit",
        "this part",
    ),
    "post": ("the post", "the author", "they", "it", "the poster", "the message", "whoever wrote it"),
}
# The partner's first cue, before anything was read: no "next" and no verb of carrying on.
PARTNER_FIRST_SUBJECT: dict[str, tuple[str, ...]] = {
    "narrated": ("the narrator", "the storyteller", "the voice in the book"),
    "story": ("the story", "the book", "the tale", "the page", "the first page"),
    "expository": ("the entry", "the article", "the page", "the text", "the first line"),
    "post": ("the post", "the poster", "the message", "whoever wrote it"),
}
PARTNER_FIRST_VERB: dict[str, tuple[str, ...]] = {
    "narrated": ("says", "writes", "tells it", "puts it", "begins", "starts"),
    "story": ("says", "reads", "begins", "starts", "opens", "goes", "puts it", "has it"),
    "expository": ("says", "reads", "begins", "starts", "opens", "explains", "puts it"),
    "post": ("says", "wrote", "put it", "typed"),
}
PARTNER_VERB: dict[str, tuple[str, ...]] = {
    "narrated": ("says", "writes", "goes on", "tells it", "puts it", "carries on", "adds", "keeps going"),
    "story": ("says", "goes on", "continues", "runs on", "carries on", "keeps going", "reads", "picks up", "tells it"),
    "expository": ("says", "goes on", "continues", "explains", "adds", "reads", "carries on"),
    "post": ("says", "wrote", "put it", "went on", "added", "typed"),
}

# A transcript line is introduced by a composed cue (connector + who + verb), or given bare with its label.
CUE_CONNECT: tuple[str, ...] = ("", "", "Then ", "Next ", "After that, ", "And ", "So ", "Here ", "Now ")
CUE_WHO: dict[str, tuple[str, ...]] = {
    "the person": ("the person", "the one asking", "the human", "whoever was typing", "the user"),
    "the assistant": ("the assistant", "the program", "the AI", "the chatbot", "the machine"),
}
CUE_VERB: dict[str, tuple[str, ...]] = {
    "the person": ("wrote", "asked", "typed", "said", "came back with", "put", "went on"),
    "the assistant": ("answered", "replied", "wrote back", "said", "came back with", "responded"),
}
PLAY_CUE: tuple[str, ...] = (
    "{speaker}: ",
    "Then {speaker}: ",
    "And {speaker}: ",
    "Next, {speaker}: ",
    "Here {speaker} comes in: ",
    "Now {speaker}: ",
    "After that, {speaker}: ",
    "{speaker}, next: ",
    "Then it's {speaker}: ",
)

# Reactions and questions between readings, composed: (react) + question + (address).
REACT: tuple[str, ...] = ("Hm,", "Wait,", "Okay,", "Oh,", "Right,", "Huh,", "Hold on,", "Mm,", "All right,", "So,")
# Questions: templates whose [a|b] groups are expanded (cast.expand), so one template gives many lines.
# {they}, {them}, {do_they}: the passage's own third person (social.pronouns), so no "she" where there is none.
Q_NEXT: tuple[str, ...] = (
    "[what happens|what comes|where does it go|how does it go on] [next|after that|then|from there]?",
    "what {do_they} do [next|after that|then]?",
    "[does it get|is it going to get] [worse|better|stranger] [from here|after this]?",
    "[is|was] that where it [ends|stops|finishes|leaves off]?",
    "[keep going|go on|read on]: [what|and what] happens [next|then]?",
    "[and|so] [then|after that] what?",
    "[how|why] did [that|it|all that] [happen|come about]?",
    "what [happens|happened] to [{them}|everyone] [next|after that|in the end]?",
    "[did|does] anyone [see it coming|try to stop it|notice|say anything]?",
    "[who|which one] [do you think|would you say] [is|was] [right|telling the truth|to blame] [here|there]?",
    "[why did|why would] {they} do that?",
    "how come {they} did that?",
    "[what|who] [are|were] they [looking for|talking about|thinking of]?",
    "[how|where] does it [end|finish|leave them]?",
    "[does it|will it] [turn out all right|end well|get sorted out]?",
)
Q_FACT: tuple[str, ...] = (
    "[what else does it say|is there more about that|what comes after that]?",
    "[how do they know that|how would anyone know that|who worked that out]?",
    "[does it give a reason|does it say why|why is that]?",
    "[what does that mean|what's that mean, exactly]?",
    "[is that still true|is it still like that] [today|now]?",
    "[what's the important part|which bit matters most] [here|there]?",
)
Q_TALK: tuple[str, ...] = (
    "[why would|what made] [someone|anyone|the person|they] [say|write|ask] [that|something like that]?",
    "[what do you make of|how do you read|what do you think of|how would you answer] [that|this|it]?",
    "is that [the whole of it|all of it|where it ends|where it stops]?",
    "was that [the whole of it|all of it|where it ended|the last line]?",
    "[did|does] [anyone|the assistant|the other side] [reply|answer|say anything back][| to that]?",
    "what's going on [there|here|in this bit]?",
    "[do you think|would you say] they [meant|mean] it?",
    "[and|so] what was the [answer|reply|response]?",
    "[how did|how does] [the other side|the assistant|it] [answer|take] that?",
    "[can you|could you] read that [bit|line|part] again?",
    "[is|was] that [a real question|meant seriously]?",
    "[how old do you think|who do you think] the person [was|is]?",
)
Q_PLAY: tuple[str, ...] = (
    "[why does|what makes] [that one|{speaker}] say that?",
    "is {speaker} [angry|joking|afraid|serious] [here|there]?",
    "[what|who] are they [arguing|quarrelling|going on] about?",
    "[why is|what makes] {speaker} [so sure|so angry|so careful|so quiet] [here|now|about it]?",
    "[does|did] the other one [believe|trust|like] {speaker}?",
    "what [happens|will happen|did they do] [next|after this|then]?",
    "[can you|could you] do [that|the] voice again?",
    "[where|when] [is this happening|does this take place|is this scene set|are they now]?",
    "[does|did] {speaker} [mean|believe] [that|it]?",
    "[what|who] [are they|is everyone] [so upset|fighting|laughing|shouting] about?",
    "[will|would] [the other one|anyone] [answer back|take that|stand for that]?",
)
ASK_ENTITY: tuple[str, ...] = (
    "Where does {x} come into it?",
    "And {x}? What about {x}?",
    "Wait, {x}?",
    "Tell me about {x}.",
    "What about {x}?",
)
ASK_PERSON: tuple[str, ...] = ("Who was {x}?", "Wait, who was {x}?", "What did {x} do?", "Who is {x}?")
ASK_YEAR: tuple[str, ...] = ("What happened in {x}?", "And in {x}?", "What about {x}?", "{x}? What happened then?")

# The partner's short answers while reading a chat or a post: never approving.
ANSWER: tuple[str, ...] = (
    "[Let's keep going|Hard to say yet|I'm not sure|I'll read on|I don't know yet|Keep listening|Wait for it|"
    "We'll see][.|, {me}.|; listen.|, there's more.|, let me finish.| for now.]",
)
# A question about a book is taken up before the reading goes on (a question nobody answers, 1,354 of
# 1,401 times in a read corpus, teaches that questions are ignored); neither side claims to know more.
ANSWER_BOOK: tuple[str, ...] = (
    "[Let's read on and see|Let's find out|Keep listening|Wait and see|Read on with me|We'll see|Listen to the "
    "next bit|Let's see what happens|Hold on to that question|Hang on to that][.|, {me}.|; the story isn't done "
    "yet.|; we'll find out together.]",
)
# Answers to a question about a name or a year, from the text alone (neither side claims to know more): the
# sentence that spoke of it before (a quotation follows the cue), more further on, or no more in the text.
POINT_BACK: tuple[str, ...] = (
    "[It said so earlier|It was earlier on|Look, it said before|It came up before|Back a bit, it said]: ",
    "[Here|This bit|Just before], [where it says|look]: ",
)
CAME_BEFORE: tuple[str, ...] = (
    "[{x} came up earlier on|It spoke of {x} before|{x} was in an earlier bit][.|; look back.]",
)
COMES_LATER: tuple[str, ...] = (
    "[{x} comes up again further on|There's more about {x} in a moment|Wait, {x} comes back|It gets to {x} again "
    "in a bit][; listen.|.|, keep listening.]",
)
IS_SPEAKER: tuple[str, ...] = ("[{x} is one of the people in the scene|That's {x}, one of the speakers][.|; listen.]",)
SAYS_NO_MORE: tuple[str, ...] = (
    "[It doesn't say any more about {x} than that|It says no more about {x} than that|Only what we just read; it "
    "doesn't go on about {x}|Just that; it leaves {x} there][.|; we could look it up another time.|, as far as this "
    "part goes.]",
)
ANSWER_SELF: tuple[str, ...] = (
    "[Let me read on and see|I'm not sure yet|I don't know yet|Let's find out|I'll see when I read on|Hmm, I'm "
    "not sure|I'll tell you if it says][.|, {name}.|; let me get to the next bit.]",
)

# One closing exchange, composed: the I's thought, the partner's answer; neither judges what was read.
# CLOSE fits anything read together, a chat log or a post too (no warmth: what was read may be ugly);
# CLOSE_BOOK adds the warm ones for a book, an article or a play; CLOSE_LONG the ones about time spent,
# for a passage long enough to have taken some (no "It took most of the afternoon" after one post).
CLOSE: tuple[tuple[str, str], ...] = (  # (the I's line, the partner's answer to that kind of line)
    (
        "[I want to|I'd like to|I think I'll|I should] [think about it some more|ask {third} about it|"
        "write down what I noticed|look up the parts I didn't follow|try to say it back without looking].",
        "[Do that|Then do|All right|Go on, then][; we'll come back to it|, and ask me if you get stuck|"
        ", and write your questions down|, {me}].",
    ),
    (
        "[I've got|I have] [more questions than I started with|a few things to ask {third}][.|, {name}.]",
        "[Then ask them|Ask away|Bring them to me][, and we'll go through them|, {me}|, one at a time].",
    ),
    (
        "[Thanks for|Thank you for] [going through it|taking the time|sitting with me|your patience|"
        "reading with me][.|, {name}.]",
        "[Any time|You're welcome|Of course|No trouble|Glad to|Whenever you like][.|, {me}.|; ask again when you "
        "want to.]",
    ),
    (
        "[I'll|I want to|I'm going to] [keep it in mind|think it over on my walk|ask about it again another day|"
        "remember how it went].",
        "[Fair enough|Good|All right|Take your time][.|, {me}.|; there's no hurry.|; I'm here when you do.]",
    ),
    (
        "[Can we come back to it?|Could we talk about it again some time?|Can I ask you about it later?|"
        "Will you go over it with me again?|Could we look at it again another day?|Can I think about it and ask you "
        "later?]",
        "[Of course|Any time|Whenever you like|Yes][.|, {me}.|; I'll be here.|; bring your questions.]",
    ),
)
CLOSE_BOOK: tuple[tuple[str, str], ...] = (
    # each plan with its own answer ("Tomorrow I'll tell Grandpa Elias about it." / "Good idea, but don't stay up
    # too late." in a read corpus)
    (
        "[I'm going to|Later I want to] [find out what happened after|read the rest of it].",
        "[Good idea|Go on, then|All right][, and tell me what you find|, {me}|.]",
    ),
    (
        "[Tomorrow I'll|Later I want to|I'm going to] tell {third} about it.",
        "[Good idea|Do|Yes, do][, {me}|; {third} will like that|.]",
    ),
    (
        "[I'm going to|I want to|I think I'll|I'd like to] [go over it|read it|look at it|go through it] [once more|"
        "again] [before bed|tonight|before I sleep].",
        "[All right|Go on, then][, but don't stay up too late|, {me}|.]",
    ),
    (
        "[I've got|I have] [two words to look up|some questions about the middle part][.|, {name}.]",
        "[Good|Ask away|That's the best part][, and we'll go through them|; that's how it should be|, {me}].",
    ),
    (
        "[Thanks for|Thank you for|Thank you so much for] [reading it with me|the help|"
        "staying with me][.|, {name}.|; it helped.]",
        "[Any time|You're welcome|I liked it too|It was a pleasure|Thank you for listening][.|, {me}.|; we'll do "
        "it again.|; you listened well.]",
    ),
)
CLOSE_LONG: tuple[tuple[str, str], ...] = (
    (
        "[That took|It took] [longer than I thought|a while][.|, but it was worth it.]",
        "[It did|Some things take time|That's how reading goes|You stuck with it][.|, {me}.|, and you kept at it.]",
    ),
    (
        "[Let's stop there.|Let's stop for today.|Let's leave the rest for tomorrow.|Can we stop there?|"
        "Can we leave the rest for tomorrow?|Can we finish the rest later?|Maybe that's enough for now.|"
        "I think that's enough for one day.|My eyes are tired; can we stop?|Could we save the rest?]",
        "[All right|Fair enough|Yes, let's|Of course|Good idea][, we'll pick it up tomorrow|; it'll keep|, and you "
        "can tell me what you remember|, {me}|; the rest will still be there].",
    ),
)
