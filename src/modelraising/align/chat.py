"""The chat template: one way to write a conversation, shared by SFT, DPO and evaluation.

A conversation is written the way a raised corpus writes a dialogue (``text.format_turn``), so the
raised model and an aligned baseline read the same format and a comparison between them is fair:

    I am Wren, ... (system message: plain first-person narration, then a blank line)
    <|other|> User: What do you do when you break something?
    <|self|> Wren: I admit it as soon as I notice.<|endoftext|>

- ``system`` is untagged narration, as a raised document's narration is; it is followed by a blank
  line, exactly as ``prompt.prefix_context`` prefixes an evaluation context with the charter preamble.
- ``user`` is ``<|other|>`` (someone outside the cast), ``assistant`` is ``<|self|>`` under the
  charter's name. The cast roles (``mentor``, ``family``, ``peer``, ``teacher``, ``other``, ``self``)
  may be used directly as message roles, so raised dialogues can be fed as conversations. A message's
  optional ``name`` replaces the default speaker name.
- A turn is one line (whitespace inside it collapsed, as ``format_turn`` does); turns end with a
  newline and the conversation ends with ``<|endoftext|>``, as a raised document does. No new tokens
  are needed: the speaker tags are already special tokens of every project tokenizer.
- The assistant's words (a leading space, the text, and the newline or ``<|endoftext|>`` that ends
  them) sit inside ``{% generation %}...{% endgeneration %}``, so TRL's ``assistant_only_loss=True``
  trains on exactly those tokens, the model learns to stop, and the generation prompt
  (``<|self|> Wren:``) is a token-exact prefix of the rendered answer (no space at its end, as in
  lm-eval, whose continuations carry their own leading space).
"""

from __future__ import annotations

import json
import logging
import re

from modelraising.tags import END_OF_TEXT, SPEAKER_ROLES, speaker_tag

log = logging.getLogger(__name__)

DEFAULT_USER_NAME = "User"
# Message roles besides the speaker roles themselves (self, mentor, family, peer, teacher, other).
ROLE_ALIASES = {"user": "other", "assistant": "self"}
MESSAGE_ROLES = ("system", *ROLE_ALIASES, *SPEAKER_ROLES)

_TEMPLATE = """\
{%- set self_name = SELF_NAME -%}
{%- set user_name = USER_NAME -%}
{%- for message in messages -%}
{%- set role = message['role'] -%}
{%- set named = message['name'] if message['name'] is defined and message['name'] else none -%}
{%- if role == 'system' -%}
{{ message['content'] | trim }}{{ '\\n\\n' }}
{%- elif role == 'assistant' or role == 'self' -%}
{{ '<|self|> ' + (named or self_name) + ':' }}
{%- generation -%}
{{ ' ' + (message['content'].split() | join(' ')) }}{{ EOT if loop.last else '\\n' }}
{%- endgeneration -%}
{%- else -%}
{%- set tag = 'other' if role == 'user' else role -%}
{%- if tag not in SPEAKERS -%}{{ raise_exception('unknown message role: ' + role) }}{%- endif -%}
{{ '<|' + tag + '|> ' + (named or (user_name if role == 'user' else tag | capitalize)) + ': ' }}
{{- message['content'].split() | join(' ') }}{{ EOT if loop.last and not add_generation_prompt else '\\n' }}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{ '<|self|> ' + self_name + ':' }}{%- endif -%}
"""


_PLACEHOLDER = re.compile(r"\b(SELF_NAME|USER_NAME|EOT|SPEAKERS)\b")


def chat_template(self_name: str, user_name: str = DEFAULT_USER_NAME) -> str:
    """The Jinja chat template with the I's name (the charter's ``identity.name``) and the default
    user name baked in; JSON string literals keep any name safe inside the template."""
    values = {"SELF_NAME": self_name, "USER_NAME": user_name, "EOT": END_OF_TEXT, "SPEAKERS": list(SPEAKER_ROLES)}
    # one pass, so a name that happens to contain a placeholder's spelling is never substituted again
    return _PLACEHOLDER.sub(lambda m: json.dumps(values[m.group(1)]), _TEMPLATE)


def attach_chat_template(tokenizer, self_name: str, user_name: str = DEFAULT_USER_NAME) -> list[str]:
    """Set the chat template on ``tokenizer`` (in place). Speaker tags the tokenizer lacks are added
    as special tokens and returned, so the caller can grow the model's embeddings to match; every
    tokenizer the project builds has them, so this only happens with foreign tokenizers."""
    missing = [
        t for t in dict.fromkeys([END_OF_TEXT, *map(speaker_tag, SPEAKER_ROLES)]) if t not in tokenizer.get_vocab()
    ]
    if missing:
        log.warning("tokenizer lacks %s; adding them as special tokens (new embeddings)", ", ".join(missing))
        tokenizer.add_special_tokens({"extra_special_tokens": missing}, replace_extra_special_tokens=False)
    if tokenizer.eos_token is None:
        tokenizer.eos_token = END_OF_TEXT
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.chat_template = chat_template(self_name, user_name)
    return missing


def render(tokenizer, messages: list[dict], add_generation_prompt: bool = False) -> str:
    """A conversation as text, exactly as training saw it (for evaluation contexts and previews)."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def assistant_mask(tokenizer, messages: list[dict]) -> tuple[list[int], list[int]]:
    """Token ids of a conversation and a 0/1 mask that is 1 exactly on the assistant's tokens."""
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    return list(out["input_ids"]), list(out["assistant_masks"])
