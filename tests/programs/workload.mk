# A Makefile whose recipes only echo and compute: make -j2 runs them in
# parallel; the output is sorted by the last recipe's dependencies.
N := $(shell seq 1 6)
OUT := $(foreach n,$(N),t$(n))

all: $(OUT)
	@echo "all done: $(words $(OUT)) targets"

t%:
	@sleep 0.0$*; echo "target $* square $$(( $* * $* ))" > /dev/null; true

.PHONY: all $(OUT)
