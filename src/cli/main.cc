// The stash binary. All wiring lives in stash::cli.
#include "stash/cli/app.h"

int main(int argc, char** argv) { return stash::cli::Run(argc, argv); }
