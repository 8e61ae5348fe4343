# yoom: the two README commands and a few more.
#   make run    install what is missing, build (release), start on http://localhost:8080
#   make test   install what is missing, build the ASan+UBSan variant, run every test
SHELL := /bin/bash
JOBS  ?= $(shell nproc)
PORT  ?= 8080
ARGS  ?=

.PHONY: all deps build debug run test fuzz bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build/CMakeCache.txt:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release

build: deps build/CMakeCache.txt
	cmake --build build -j$(JOBS)

build-debug/CMakeCache.txt:
	cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=Debug -DYM_SANITIZE=ON -DYM_WERROR=ON

debug: deps build-debug/CMakeCache.txt
	cmake --build build-debug -j$(JOBS)

run: build
	@echo "yoom: open http://localhost:$(PORT)/"
	./build/yoom --port $(PORT) $(ARGS)

test: debug
	cd build-debug && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS)

# A real libFuzzer campaign (clang), FUZZ_TIME seconds per target.
FUZZ_TIME ?= 60
fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DYM_SANITIZE=ON -DYM_FUZZ=ON
	cmake --build build-fuzz -j$(JOBS)
	@for f in build-fuzz/fuzz/fuzz_*; do case $$f in *_replay) continue;; esac; \
	  n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
	  echo "== $$n"; $$f -max_total_time=$(FUZZ_TIME) build-fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

bench:
	@YM_BENCH_DEPS=1 bash scripts/install-deps.sh
	$(MAKE) build
	bash bench/run.sh

clean:
	rm -rf build build-debug build-fuzz
