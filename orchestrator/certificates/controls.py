"""Controls a job's restore tests can evidence, with their titles in French and English. A job may name
any control; these are the ones the certificate knows by name (aliases are accepted)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownControl:
    id: str
    fr: str
    en: str


CATALOGUE = {control.id: control for control in (
    KnownControl("ANSSI-37",
                 "Guide d'hygiène informatique de l'ANSSI, mesure 37 : définir et appliquer une politique de "
                 "sauvegarde des composants critiques",
                 "ANSSI IT hygiene guide, measure 37: define and apply a backup policy for critical components"),
    KnownControl("ISO27001-A.8.13", "ISO/IEC 27001:2022, A.8.13 : sauvegarde des informations",
                 "ISO/IEC 27001:2022, A.8.13: information backup"),
    KnownControl("ISO27001-A.5.30", "ISO/IEC 27001:2022, A.5.30 : préparation des TIC pour la continuité d'activité",
                 "ISO/IEC 27001:2022, A.5.30: ICT readiness for business continuity"),
    KnownControl("NIST-CP-9", "NIST SP 800-53, CP-9 : sauvegarde du système",
                 "NIST SP 800-53, CP-9: system backup"),
    KnownControl("NIST-CP-9(1)", "NIST SP 800-53, CP-9(1) : tests de fiabilité et d'intégrité des sauvegardes",
                 "NIST SP 800-53, CP-9(1): testing for reliability and integrity"),
    KnownControl("NIST-CP-4", "NIST SP 800-53, CP-4 : test du plan de continuité",
                 "NIST SP 800-53, CP-4: contingency plan testing"),
    KnownControl("NIST-CP-10", "NIST SP 800-53, CP-10 : reprise et reconstitution du système",
                 "NIST SP 800-53, CP-10: system recovery and reconstitution"),
    KnownControl("NIS2-21.2.C", "Directive NIS 2, art. 21(2)(c) : continuité des activités, gestion des sauvegardes",
                 "NIS 2 Directive, art. 21(2)(c): business continuity, such as backup management"),
    KnownControl("DORA-12", "DORA (UE 2022/2554), art. 12 : politiques de sauvegarde, restauration et rétablissement",
                 "DORA (EU 2022/2554), art. 12: backup policies, restoration and recovery"),
)}

_REWRITES = (
    (re.compile(r"^ANSSI-(HYGIENE-)?(MEASURE-|MESURE-)?"), "ANSSI-"),
    (re.compile(r"^ISO-?(IEC-?)?27001(-2022)?-"), "ISO27001-"),
    (re.compile(r"^(NIST-)?(SP-?800-53-)?CP-"), "NIST-CP-"),
    (re.compile(r"^NIS-?2-(ART-)?"), "NIS2-"),
)


def canonical_id(control: str) -> str:
    """Given a control as a job names it ('ISO 27001 A.8.13', 'cp-9'), return the catalogue's id if it is a
    known one, else the name as given."""
    normal = re.sub(r"[\s:_/]+", "-", control.strip().upper())
    for pattern, replacement in _REWRITES:
        normal = pattern.sub(replacement, normal)
    return normal if normal in CATALOGUE else control.strip()


def control_title(control_id: str, language: str) -> str:
    """Given a control id and 'fr' or 'en', return its title, or '' for a control the catalogue lacks."""
    known = CATALOGUE.get(control_id)
    if known is None:
        return ""
    return known.fr if language == "fr" else known.en
