"""Police force names: police.uk's names of every force, and one key that matches every publisher's spelling."""

from __future__ import annotations

import re

__all__ = ["FORCE_NAME_ALIASES", "POLICE_UK_FORCES", "force_key"]

#: police.uk "Falls within" names of every force police.uk publishes, keyed by :func:`force_key`.
POLICE_UK_FORCES: dict[str, str] = {
    "avon and somerset": "Avon and Somerset Constabulary",
    "bedfordshire": "Bedfordshire Police",
    "british transport": "British Transport Police",
    "cambridgeshire": "Cambridgeshire Constabulary",
    "cheshire": "Cheshire Constabulary",
    "city of london": "City of London Police",
    "cleveland": "Cleveland Police",
    "cumbria": "Cumbria Constabulary",
    "derbyshire": "Derbyshire Constabulary",
    "devon and cornwall": "Devon & Cornwall Police",
    "dorset": "Dorset Police",
    "durham": "Durham Constabulary",
    "dyfed powys": "Dyfed-Powys Police",
    "essex": "Essex Police",
    "gloucestershire": "Gloucestershire Constabulary",
    "greater manchester": "Greater Manchester Police",
    "gwent": "Gwent Police",
    "hampshire": "Hampshire Constabulary",
    "hertfordshire": "Hertfordshire Constabulary",
    "humberside": "Humberside Police",
    "kent": "Kent Police",
    "lancashire": "Lancashire Constabulary",
    "leicestershire": "Leicestershire Police",
    "lincolnshire": "Lincolnshire Police",
    "merseyside": "Merseyside Police",
    "metropolitan": "Metropolitan Police Service",
    "norfolk": "Norfolk Constabulary",
    "north wales": "North Wales Police",
    "north yorkshire": "North Yorkshire Police",
    "northamptonshire": "Northamptonshire Police",
    "northumbria": "Northumbria Police",
    "nottinghamshire": "Nottinghamshire Police",
    "northern ireland": "Police Service of Northern Ireland",
    "south wales": "South Wales Police",
    "south yorkshire": "South Yorkshire Police",
    "staffordshire": "Staffordshire Police",
    "suffolk": "Suffolk Constabulary",
    "surrey": "Surrey Police",
    "sussex": "Sussex Police",
    "thames valley": "Thames Valley Police",
    "warwickshire": "Warwickshire Police",
    "west mercia": "West Mercia Police",
    "west midlands": "West Midlands Police",
    "west yorkshire": "West Yorkshire Police",
    "wiltshire": "Wiltshire Police",
}

#: Keys that :func:`force_key`'s generic rules leave different for one force, mapped to the canonical key.
#: Generic rules: case-fold, "&" -> "and", punctuation and hyphens -> spaces, drop the words
#: "police", "constabulary", "service", "force", "area" and a leading "the"/"police service of".
FORCE_NAME_ALIASES: dict[str, str] = {
    "hampshire and isle of wight": "hampshire",  # renamed 2022; police.uk and the 2018 population use "Hampshire"
    "london city of": "city of london",  # ONS style "London, City of"
    "btp": "british transport",  # police.uk file slug
    "metropolitan london": "metropolitan",
    "psni": "northern ireland",
}

_DROP_WORDS = {"police", "constabulary", "service", "force", "area", "the"}


def force_key(name: str) -> str:
    """Normalise a force name so that the spellings of different publishers match.

    police.uk says "Avon and Somerset Constabulary", the House of Commons Library
    "Avon & Somerset", ONS "Avon & Somerset" (PFA16NM); all become
    ``"avon and somerset"``. Generic rules: case-fold, ``&`` -> ``and``,
    punctuation and hyphens -> spaces, drop the words *police*, *constabulary*,
    *service*, *force*, *area*, *the* and a leading *police service of*; then
    :data:`FORCE_NAME_ALIASES` maps the few names the rules leave different.
    police.uk file slugs (``avon-and-somerset``, ``btp``) normalise too.

    Parameters
    ----------
    name : str
        A force name or police.uk file slug.

    Returns
    -------
    str
        The key (a key of :data:`POLICE_UK_FORCES` for every force police.uk publishes).

    Examples
    --------
    >>> force_key("Avon and Somerset Constabulary"), force_key("Avon & Somerset")
    ('avon and somerset', 'avon and somerset')
    >>> force_key("Dyfed-Powys Police"), force_key("Metropolitan Police Service"), force_key("btp")
    ('dyfed powys', 'metropolitan', 'british transport')
    """
    s = str(name).casefold().replace("&", " and ")
    s = re.sub(r"^\s*police service of\s+", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    key = " ".join(w for w in s.split() if w not in _DROP_WORDS)
    return FORCE_NAME_ALIASES.get(key, key)
