"""The Label Studio project: labelling interface, guidelines and idempotent set-up.

Facts this relies on (label-studio 1.23, label-studio-sdk 2.x): the ``Text`` tag
has no direction attribute, so each post is shown in a block whose lines get
``unicode-bidi: plaintext`` (Arabic reads right to left, French left to right);
exports overwrite task data keys named ``id`` or ``created_at``, hence
``post_id`` and ``posted_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from swarmlens.classifier.vocab import LABELS

FROM_NAME = "stance"
TO_NAME = "text"

LABEL_CONFIG = f"""<View>
  <Style>.post .lsf-richtext__line{{display:block;unicode-bidi:plaintext;text-align:start}}</Style>
  <View className="post">
    <Text name="{TO_NAME}" value="$text"/>
  </View>
  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single-radio" required="true"
           showInline="true">
{chr(10).join(f'    <Choice value="{label}"/>' for label in LABELS)}
  </Choices>
  <TextArea name="note" toName="{TO_NAME}" placeholder="Optional note (why, doubts, context)"
            rows="2" maxSubmissions="1"/>
</View>"""

GUIDELINES = """<h3>Stance of a post towards the Islamic State (IS)</h3>
<p>Label what the post does, not which words it contains. Counts built from these labels
tell analysts how much of a hashtag is support, opposition or news.</p>
<ul>
<li><b>supportive</b>: praises, promotes or celebrates IS, its fighters or its attacks;
spreads its slogans ("remaining and expanding", "the State of the Caliphate hits France")
or its material (justpaste.it, archive.org, t.me links shared approvingly), gloats.</li>
<li><b>opposing</b>: condemns, mocks or counters IS; counter-speech and solidarity
(#NotInMyName, #PrayForParis); reporting accounts; and <b>flooding</b>: posting unrelated
or mocking content (cats, jokes, memes) into a supporters' hashtag to drown it. A post that
quotes a supporters' slogan to ridicule it is opposing.</li>
<li><b>neutral</b>: news and factual reports (what happened, official statements, traffic,
casualty figures from authorities) without taking a side; unrelated chatter that uses the
hashtag without stance.</li>
</ul>
<p>When unsure between two labels, pick the closer one and say why in the note. Do not
follow links. Judge the post as published, in any language; retweets ("RT @...") carry the
stance of the retweeted text.</p>"""


@dataclass
class ProjectSetup:
    project_id: int
    created: bool
    changed: list[str]


def desired_fields(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "label_config": LABEL_CONFIG,
        "expert_instruction": GUIDELINES,
        "show_instruction": True,
        "show_skip_button": True,
        "enable_empty_annotation": False,
    }


def find_project(ls: Any, title: str) -> Any | None:
    for project in ls.projects.list():
        if project.title == title:
            return project
    return None


def ensure_project(ls: Any, title: str) -> ProjectSetup:
    """Create the project, or bring an existing one (found by title) up to date.

    Only fields that differ are sent, so a re-run with nothing changed changes nothing.
    """
    wanted = desired_fields(title)
    project = find_project(ls, title)
    if project is None:
        created = ls.projects.create(**wanted)
        return ProjectSetup(project_id=created.id, created=True, changed=sorted(wanted))
    current = ls.projects.get(id=project.id)
    changed = {
        key: value
        for key, value in wanted.items()
        if _normalise(getattr(current, key, None)) != _normalise(value)
    }
    if changed:
        ls.projects.update(id=project.id, **changed)
    return ProjectSetup(project_id=project.id, created=False, changed=sorted(changed))


def _normalise(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def choice_result(label: str) -> list[dict[str, Any]]:
    """A Label Studio result selecting ``label`` in the stance choices."""
    return [
        {
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def label_of(result: list[dict[str, Any]] | None) -> str | None:
    """The stance label in an annotation's result, if any."""
    for item in result or []:
        if item.get("from_name") == FROM_NAME:
            choices = (item.get("value") or {}).get("choices") or []
            if choices and choices[0] in LABELS:
                return choices[0]
    return None
