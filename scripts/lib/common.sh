# shellcheck shell=bash
# Shared by scripts/demo and scripts/test: numbered steps, failure reports, package installation
# and the CMake build. Source it from bash after setting OMW_STEP_COUNT.

set -euo pipefail

OMW_SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OMW_SCRIPT=scripts/$(basename "$0")
OMW_STEP_COUNT=${OMW_STEP_COUNT:-0}
omw_step_index=0
omw_step_title=""

# Starts the next numbered step and prints its title.
omw_step() {
    omw_step_index=$((omw_step_index + 1))
    omw_step_title=$1
    printf '\n==> [%d/%d] %s\n' "$omw_step_index" "$OMW_STEP_COUNT" "$omw_step_title"
}

# Prints an indented line of detail for the current step.
omw_say() {
    printf '    %s\n' "$*"
}

# Reports the current step as failed, with the reason and an optional hint, and exits 1.
omw_fail() {
    local reason=$1
    local hint=${2:-}
    printf '\n%s: step %d/%d failed: %s\n' "$OMW_SCRIPT" "$omw_step_index" "$OMW_STEP_COUNT" \
        "$omw_step_title" >&2
    printf '%s: %s\n' "$OMW_SCRIPT" "$reason" >&2
    if [[ -n $hint ]]; then
        printf '%s: %s\n' "$OMW_SCRIPT" "$hint" >&2
    fi
    exit 1
}

# Prints a command, runs it, and fails the step with the command's exit status when it fails.
# Usage: omw_run [--hint TEXT] COMMAND [ARGUMENT...]
omw_run() {
    local hint=""
    if [[ ${1:-} == --hint ]]; then
        hint=$2
        shift 2
    fi
    printf '    $ %s\n' "$*"
    local status=0
    "$@" || status=$?
    if ((status != 0)); then
        omw_fail "'$*' exited with status $status (its output is above)." "$hint"
    fi
}

# Runs a command as root: directly when already root, else through sudo, which asks for a
# password only then.
# Usage: omw_as_root [--hint TEXT] COMMAND [ARGUMENT...]
omw_as_root() {
    local hint=""
    if [[ ${1:-} == --hint ]]; then
        hint=$2
        shift 2
    fi
    if ((EUID == 0)); then
        omw_run --hint "$hint" "$@"
    elif command -v sudo >/dev/null 2>&1; then
        omw_say "Installing needs root; asking sudo."
        omw_run --hint "$hint" sudo "$@"
    else
        omw_fail "installing packages needs root, and sudo is not installed." \
            "Run this script as root, or install the packages listed above by hand."
    fi
}

# Prints the packages of the given groups in scripts/packages.list, one line each:
# `PACKAGE [COMMAND]`.
omw_package_lines() {
    local groups=" $* "
    awk -v groups="$groups" '
        /^[[:space:]]*(#|$)/ { next }
        /^\[/ { group = substr($1, 2, length($1) - 2); next }
        index(groups, " " group " ") { print $1, $2 }
    ' "$OMW_SOURCE_DIR/scripts/packages.list"
}

# Installs the packages of the given groups that are missing, with apt-get. A package counts as
# present when dpkg lists it as installed, or when the command named beside it is on PATH.
omw_install_packages() {
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
        omw_fail "apt-get and dpkg-query were not found: this script supports Debian 12 and Ubuntu 24.04." \
            "Elsewhere, install the equivalents of scripts/packages.list by hand."
    fi
    local group
    for group in "$@"; do
        if ! grep -q "^\[$group\]" "$OMW_SOURCE_DIR/scripts/packages.list"; then
            omw_fail "scripts/packages.list has no group [$group]."
        fi
    done
    local missing=()
    local total=0
    local package command status
    while read -r package command; do
        total=$((total + 1))
        if [[ -n $command ]] && command -v "$command" >/dev/null 2>&1; then
            continue
        fi
        status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
        if [[ $status != installed ]]; then
            missing+=("$package")
        fi
    done < <(omw_package_lines "$@")

    if ((${#missing[@]} == 0)); then
        omw_say "All $total packages are installed (groups: $*)."
        return
    fi
    omw_say "Missing ${#missing[@]} of $total packages: ${missing[*]}"
    local hint="Check the package names and the apt sources (/etc/apt/sources.list*)."
    omw_as_root --hint "$hint" apt-get update
    omw_as_root --hint "$hint" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

# Configures a Ninja build in `dir` with the given CMake arguments. A build folder made by
# another generator is reported instead of being removed.
omw_configure() {
    local dir=$1
    shift
    local cache=$dir/CMakeCache.txt
    if [[ -f $cache ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$cache"; then
        omw_fail "$dir was configured with another CMake generator than Ninja." \
            "Remove it, or choose another folder with OMW_BUILD_DIR=PATH."
    fi
    omw_run cmake -S "$OMW_SOURCE_DIR" -B "$dir" -G Ninja "$@"
}

# Builds the default target of a configured build folder on every core.
omw_build() {
    local dir=$1
    omw_run cmake --build "$dir" --parallel "$(nproc)"
}

# Prints the path of an executable built in `dir`, or nothing when it was not built.
omw_built_program() {
    local dir=$1
    local name=$2
    find "$dir" -maxdepth 3 -type f -name "$name" -perm -u+x -print -quit 2>/dev/null
}
