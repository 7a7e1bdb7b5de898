"""Write i18n/locale/zh_CN/LC_MESSAGES/messages.po from messages.pot and the strings in
i18n/zh_CN_source.py (`python -m i18n.write_po`; `make messages` runs it). Prints the msgids
still without a translation."""

from __future__ import annotations

from babel.messages.pofile import read_po, write_po

from i18n import LOCALE_DIR
from i18n.zh_CN_source import ZH_CN


def main() -> int:
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        template = read_po(pot)
    template.locale = "zh_CN"  # type: ignore[assignment]
    template.project, template.version, template.fuzzy = "Heliograph", "0.1.0", False
    missing = []
    for message in template:
        if not message.id:
            continue
        if message.pluralizable:  # Chinese has one plural form
            singular = str(message.id[0])
            message.string = (ZH_CN.get(singular, ""),)
            if not message.string[0]:
                missing.append(singular)
            continue
        message.string = ZH_CN.get(str(message.id), "")
        if not message.string:
            missing.append(str(message.id))
    target = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as po:
        write_po(po, template, width=96, omit_header=False)
    for message_id in missing:
        print("untranslated:", message_id)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
