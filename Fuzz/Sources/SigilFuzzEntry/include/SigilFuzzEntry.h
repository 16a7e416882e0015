// Intentionally empty: this module only provides SigilFuzz_main (see entry.c).
