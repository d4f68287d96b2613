#!/usr/bin/env bash
# Re-create the experiment folders under results/ (about 10 minutes on a 2-core CPU):
#   bash scripts/reproduce_results.sh /path/to/creditcard_sample.csv
# Each experiment runs on the bundled breast-cancer data and on the credit-card CSV
# given as the only argument; sweeps go to sweeps/, tables and figures to results/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: bash scripts/reproduce_results.sh CREDITCARD_CSV (a file; got: ${1:-nothing})" >&2
    exit 2
fi
cc="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
py=${PYTHON:-.venv/bin/python}
breast=()
credit=(dataset=creditcard "dataset.path=$cc" ae.fit_on=normal)

sweep() {  # sweep EXPERIMENT DATA_NAME OVERRIDES...
    local name=$1 data=$2
    shift 2
    local dir="sweeps/${name}_${data}"
    if [ -e "$dir" ]; then
        echo "$dir exists; move it away to run the sweep again" >&2
        exit 1
    fi
    "$py" scripts/run.py -m "experiment=$name" "$@" "hydra.sweep.dir=$dir" train.log_every=100
}

for data in breast_cancer creditcard_sample; do
    if [ "$data" = breast_cancer ]; then
        args=("${breast[@]}") classes=benign,malignant
    else
        args=("${credit[@]}") classes=normal,fraud
    fi
    sweep latent_size "$data" "${args[@]}"
    "$py" scripts/make_table.py "sweeps/latent_size_$data" --rows model,model.latent_dim \
        --cols features --metrics test/auprc --baseline features=raw --tex \
        --out "results/latent_size_$data"
    "$py" scripts/plot_tsne.py "sweeps/latent_size_$data" \
        --where model=ae,model.latent_dim=8,features=latent,seed=0 \
        --class-names "$classes" --out "results/latent_size_$data/tsne"
    sweep label_budget "$data" "${args[@]}"
    "$py" scripts/make_table.py "sweeps/label_budget_$data" --rows labels.budget \
        --cols features --metrics test/auprc --baseline features=raw --tex \
        --out "results/label_budget_$data"
done
# normal_budget: the bundled data has 215 normal training rows, so smaller budgets.
sweep normal_budget breast_cancer ae.budget=25,50,100,all
sweep normal_budget creditcard_sample "${credit[@]}"
# kaggle_fraud: min-max scaling and 2,000 normal rows as in the notebook; the bundled
# data has fewer normal rows, so it uses all of them.
sweep kaggle_fraud breast_cancer dataset=breast_cancer ae.budget=all
sweep kaggle_fraud creditcard_sample "dataset.path=$cc"
for data in breast_cancer creditcard_sample; do
    "$py" scripts/make_table.py "sweeps/normal_budget_$data" --rows ae.budget \
        --cols labels.budget --metrics test/auprc,test/roc_auc --tex \
        --out "results/normal_budget_$data"
    "$py" scripts/make_table.py "sweeps/kaggle_fraud_$data" --rows '' \
        --metrics test/auprc,test/roc_auc,test/f1,test/recall --tex \
        --out "results/kaggle_fraud_$data"
    classes=normal,fraud
    [ "$data" = breast_cancer ] && classes=benign,malignant
    "$py" scripts/plot_tsne.py "sweeps/kaggle_fraud_$data" --where seed=0 \
        --class-names "$classes" --out "results/kaggle_fraud_$data/tsne"
done
