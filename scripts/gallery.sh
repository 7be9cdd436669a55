#!/usr/bin/env bash
# Refreshes the pictures under docs/: runs every chapter's default with its default seed and
# copies the PNGs it writes. The committed pictures are the ones this script makes.
#
#   bash scripts/gallery.sh            # the default runs (generated data): about 3 minutes on 2 cores
#   bash scripts/gallery.sh DATA       # also the real-data pictures, DATA holding
#                                      #   tinyshakespeare/input.txt, mnist/, digits/digits.csv,
#                                      #   hinton-a2/raw_sentences.txt, reddit-comments/*.csv
#
# The real-data runs are long (minutes each) and read files this repository does not ship; the
# README's "Use your own data" section says where to download them.
set -euo pipefail

cd "$(dirname "$0")/.."
data="${1:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --workspace --bins
bin=target/release

# run NAME CRATE ARGS...: CRATE's binary with ARGS, outputs in $work/NAME.
run() {
    local name="$1" crate="$2"
    shift 2
    echo "== $crate $*" >&2
    "$bin/$crate" "$@" --quiet --out "$work/$name" >"$work/$name.log"
}

# pic NAME FILE DOC: copies $work/NAME/FILE to docs/DOC.
pic() {
    cp "$work/$1/$2" "docs/$3"
    echo "   docs/$3" >&2
}

mkdir -p docs

run xor backprop-xor
pic xor loss.png backprop-xor-loss.png
run xor-simple backprop-xor simple-nets
pic xor-simple loss.png backprop-xor-simple-nets.png

run adder rnn-adder
pic adder loss.png rnn-adder-loss.png

run charrnn char-rnn
pic charrnn loss.png char-rnn-loss.png

run conv conv-im2col
pic conv loss.png conv-im2col-loss.png
pic conv filters.png conv-im2col-filters.png

run ngram ngram-lm
pic ngram loss.png ngram-lm-loss.png
pic ngram embedding.png ngram-lm-embedding.png

run opt optimizers
pic opt loss.png optimizers-loss.png
pic opt boundary-gd.png optimizers-boundary-gd.png
pic opt boundary-adam.png optimizers-boundary-adam.png
run opt-paths optimizers paths
pic opt-paths paths.png optimizers-paths.png
run opt-batch optimizers batch-size
pic opt-batch loss.png optimizers-batch-size.png
run opt-momentum optimizers momentum
pic opt-momentum momentum.png optimizers-momentum.png

run rbm rbm
pic rbm loss.png rbm-bars-loss.png
pic rbm samples.png rbm-bars-samples.png
pic rbm filters.png rbm-bars-filters.png

run rnnlm rnn-lm
pic rnnlm loss.png rnn-lm-loss.png

run lstm lstm-gru
pic lstm loss.png lstm-gru-adding.png
run lstm-text lstm-gru train
pic lstm-text loss.png lstm-gru-text-generated.png
run lstm-gradients lstm-gru gradients
pic lstm-gradients gradients.png lstm-gru-gradients.png
run lstm-irnn lstm-gru adding --cell rnn --activation relu --length 150 --lr 0.001 --steps 20000
pic lstm-irnn loss.png lstm-gru-irnn.png

if [ -z "$data" ]; then
    echo "done (pass a data folder for the real-data pictures)" >&2
    exit 0
fi

run xor-digits backprop-xor digits --digits "$data/digits/digits.csv"
pic xor-digits loss.png backprop-xor-digits.png

run charrnn-ts char-rnn train --text "$data/tinyshakespeare/input.txt" --iterations 100000
pic charrnn-ts loss.png char-rnn-tinyshakespeare.png

run conv-mnist conv-im2col train --mnist "$data/mnist" --init he
pic conv-mnist loss.png conv-im2col-mnist-loss.png

run ngram-raw ngram-lm train --text "$data/hinton-a2/raw_sentences.txt" --epochs 10
pic ngram-raw embedding.png ngram-lm-raw-embedding.png

run rbm-digits rbm --digits "$data/digits/digits.csv"
pic rbm-digits loss.png rbm-digits-loss.png
pic rbm-digits samples.png rbm-digits-samples.png
pic rbm-digits filters.png rbm-digits-filters.png
run rbm-mnist rbm --mnist "$data/mnist"
pic rbm-mnist filters.png rbm-mnist-filters.png

reddit=("$data"/reddit-comments/*.csv)
run rnnlm-reddit rnn-lm --csv "${reddit[0]}" --sentences 100
pic rnnlm-reddit loss.png rnn-lm-reddit.png
run rnnlm-ts rnn-lm --text "$data/tinyshakespeare/input.txt" --vocab 8000 --sentences 100
pic rnnlm-ts loss.png rnn-lm-shakespeare.png

echo "done" >&2
