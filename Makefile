# least: `make` builds build/least; `make demo` and `make test` also install
# what they need (scripts/install-deps.sh) first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all build deps demo test unit asan fuzz docs bench format clean

all: build

build:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD)

deps:
	scripts/install-deps.sh

demo: deps build
	scripts/demo.sh

test: deps
	scripts/test.sh

bench: deps build
	bench/run.sh

# Regenerates docs/promises.md from the catalog (a test fails when stale).
docs: build
	$(BUILD)/least promises --markdown > docs/promises.md

format:
	clang-format -i $$(git ls-files '*.cc' '*.h' '*.c')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
