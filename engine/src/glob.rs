//! Redis's glob matching (`stringmatchlen`) for KEYS, SCAN MATCH, CONFIG GET.
