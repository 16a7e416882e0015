// The harness's process entry point.
//
// SwiftPM links an executable with `--defsym main=<module>_main` (so that tests can link against
// executables), and libFuzzer, which brings its own `main`, needs `-parse-as-library`, under which
// Swift emits no `SigilFuzz_main`: the link fails with an undefined symbol. This defines it as
// libFuzzer's own driver, so `main` runs libFuzzer whichever of the two the linker picks.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int SigilFuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
