#!/usr/bin/env bats
# Issue 10, point 11: the man page documents every subcommand, option,
# file and exit status; the bash completion completes what each word
# takes; the README names only files a clone has; make demo installs only
# what the demo needs.

load helpers

setup_file() {
	export IMG=$BATS_FILE_TMPDIR/dos.img
	make_dos_image "$IMG"
}

setup() { blkfuse_setup; }
teardown() { blkfuse_teardown; }

MAN=$BATS_TEST_DIRNAME/../doc/blkfuse.1

# Text of the man page, rendered, hyphens as typed.
man_text() {
	MANWIDTH=200 man -l "$MAN" 2>/dev/null | sed 's/‐/-/g'
}

@test "man page: every option of blkfuse, blkfuse hash and blkfuse ctl" {
	local text opt o
	text=$(man_text)
	for opt in $({ "$BLKFUSE" --help; "$BLKFUSE" hash --help; "$BLKFUSE" ctl --help; } |
		grep -oE '(^| )--?[a-zA-Z][a-z-]*' | sort -u); do
		grep -qF -- "$opt" <<<"$text" || fail "$opt is not in the man page"
	done
	# every -o word the help lists
	for o in $("$BLKFUSE" --help | sed -n '/^Mount options/,/^$/p' | grep -oE '^ [a-z_]+' ); do
		grep -qw -- "$o" <<<"$text" || fail "-o $o is not in the man page"
	done
	[ -z "$(man --warnings -l "$MAN" 2>&1 >/dev/null)" ]
}

@test "man page: subcommands, control protocol, formats, files, exit statuses" {
	local text
	text=$(man_text)
	local want
	for want in 'blkfuse ctl NAME|PATH' 'blkfuse hash' 'show' 'get KEY' 'reset' \
		'stats [-w S]' 'BLKFUSE_IOC_SET_TEXT' 'layout.json' 'rotated' \
		'/run/blkfuse/NAME' '.blkfuse-ctl' '/etc/fuse.conf' 'verify_after' \
		'SIGTERM' 'umount -l' 'user_allow_other'; do
		grep -qF -- "$want" <<<"$text" || fail "'$want' is not in the man page"
	done
	local st
	for st in 0 1 2 3; do
		sed -n '/^EXIT STATUS/,/^EXAMPLES/p' <<<"$text" | grep -qE "^ +$st\b" ||
			fail "exit status $st is not documented"
	done
}

# complete LINE: the candidates bash completion offers for LINE (cursor at
# its end), sorted, one a line.
complete_line() {
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"
		COMP_LINE=$2
		read -ra COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_POINT=${#COMP_LINE}
		PATH=$3:$PATH
		# compopt works only inside a real completion: its complaint is noise
		_blkfuse blkfuse "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ \
		"$BATS_TEST_DIRNAME/../contrib/blkfuse.bash-completion" "$1" "$(dirname "$BLKFUSE")"
}

@test "bash completion: subcommands, --algo values, partition names, ctl keys" {
	run complete_line 'blkfuse '
	assert_line ctl
	assert_line hash
	run complete_line 'blkfuse hash --algo '
	assert_output $'md5\nsha1\nsha256'
	run complete_line 'blkfuse hash --algo sha256,m'
	assert_output 'sha256,md5'
	run complete_line "blkfuse hash $IMG "
	assert_output "$(printf '%s\n' disk p1 p2 p3 p4 p5 p6 | sort)"
	run complete_line 'blkfuse hash -'
	refute_line --partial -- '--list'
	assert_line -- '--algo'
	run complete_line 'blkfuse ctl /nonexistent get '
	assert_line splice
	assert_line pause
	run complete_line 'blkfuse ctl /nonexistent set source_io='
	assert_output $'source_io=buffered\nsource_io=direct'
	run complete_line 'blkfuse ctl /nonexistent '
	assert_line stats
	run complete_line 'blkfuse --list -o TYPEN'
	assert_output TYPENAME
	run complete_line 'blkfuse -o nofr'
	assert_output nofree
}

@test "README names only files a clone has" {
	local f
	cd "$BATS_TEST_DIRNAME/.."
	for f in $(grep -oE '`(contrib|tests|doc|bench|include|core)/[A-Za-z0-9_./@-]+`' README.md | tr -d '`' | sort -u); do
		# a directory a run makes (git-ignored, named with its '/') is
		# no promise of content; a file in one would be
		[[ $f == */ ]] && git check-ignore -q "$f" && continue
		f=${f%/}
		# a built helper (tests/faulty_fs) counts by its source
		git ls-files --error-unmatch "$f" >/dev/null 2>&1 ||
			git ls-files --error-unmatch "$f.c" >/dev/null 2>&1 ||
			[ -n "$(git ls-files "$f/")" ] || fail "README names $f, which a clone does not have"
	done
	run grep -n 'results/latest' README.md
	assert_failure
}

@test "make demo installs every build dependency (optional libraries too), and no test tool" {
	cd "$BATS_TEST_DIRNAME/.."
	sed -n '/^demo:/,/^$/p' Makefile | grep -q 'contrib/install-demo-deps'
	# not the test set's installer (tests/install-deps) nor a `deps` target
	# (the demo's own contrib/install-demo-deps is the point)
	run grep -E '(^|[[:space:]/])(install-deps|deps)$' < <(sed -n '/^demo:/,/^$/p' Makefile)
	assert_equal "$status" 1	# no line: grep's 1, not its 2 (an error)
	assert_output ''
	local p pkgs mod pc
	pkgs=$(sed -n '/^pkgs=(/,/)/p' contrib/install-demo-deps | tr -d '()' | sed 's/pkgs=//')
	for p in $pkgs; do
		case $p in
		qemu*|fio|xmount|gnuplot*|bats*|sleuthkit|busybox*) fail "make demo installs $p" ;;
		esac
		# and the test set has everything the demo has
		grep -qw -- "$p" tests/install-deps || fail "$p is not in tests/install-deps"
	done
	# every library the Makefile asks pkg-config for, optional or not, is
	# in a package make demo installs (the package that owns its .pc here)
	for mod in $(grep -oE '(call have,|--(cflags|libs|exists) )[a-z0-9 ]+' Makefile |
		sed -E 's/.*(have,|--[a-z]+ )//' | tr ' ' '\n' | sort -u); do
		pc=$(pkg-config --variable=pcfiledir "$mod" 2>/dev/null)/$mod.pc ||
			fail "pkg-config does not know $mod here"
		p=$(dpkg -S "$(realpath "$pc")" 2>/dev/null | cut -d: -f1) ||
			p=$(dpkg -S "$pc" | cut -d: -f1)
		grep -qw -- "$p" <<<"$pkgs" || fail "$mod ($p) is not installed by make demo"
	done
}

# ---- the docs against the code's own tables (issue 21, point 3) ---------

# section TEXT START END: the lines of TEXT from the line matching START up
# to (not including) the next one matching END.
section() {
	awk -v s="$2" -v e="$3" '$0 ~ s { on = 1; print; next } on && $0 ~ e { exit } on' <<<"$1"
}

# The README's control table (the one whose header is "| tunable |").
readme_tunables() {
	sed -n '/^| tunable | effect/,/^$/p' "$REPO/README.md" | tail -n +3 |
		cut -d'|' -f2 | grep -oE '`[a-z_]+' | tr -d '`'
}

completion_words() {	# completion_words VARIABLE-OR-OPTION-PATTERN
	grep -E "$1" "$REPO/contrib/blkfuse.bash-completion" | head -1 |
		grep -oE "'[^']*'" | tail -1 | tr -d "'" | tr ' ' '\n' | sed 's/=$//' | grep .
}

@test "tunables: what the control accepts is in README's table, the man page, --help and the completion, and nothing else is" {
	start_blkfuse "$IMG" "$MNT"
	local show key val settable=() fixed=()
	show=$("$BLKFUSE" ctl "$MNT" show | sed '/^last_error /,$d')
	# the code decides: a key is a tunable if setting it to its own value works
	while read -r key val; do
		if "$BLKFUSE" ctl "$MNT" set "$key=$val" 2>/dev/null; then
			settable+=("$key")
		else
			fixed+=("$key")
		fi
	done <<<"$show"
	stop_blkfuse
	[ ${#settable[@]} -ge 10 ] || fail "only ${settable[*]} could be set"
	local man help readme comp
	man=$(section "$(man_text)" '^CONTROL' '^FORMATS')
	help=$(section "$("$BLKFUSE" --help)" '^Control tunables' '^$')
	readme=$(readme_tunables)
	# the completion asks the binary for its table of tunables
	grep -q 'blkfuse ctl --keys' "$REPO/contrib/blkfuse.bash-completion" ||
		fail "the completion does not read 'blkfuse ctl --keys'"
	comp=$("$BLKFUSE" ctl --keys | cut -f1 | grep -vx abort)
	for key in "${settable[@]}"; do
		grep -qw -- "$key" <<<"$readme" || fail "README's control table lacks $key"
		grep -qE -- "(^|[ (,])$key=" <<<"$man" || fail "the man page's CONTROL lacks $key="
		grep -qE -- "(^| )$key=" <<<"$help" || fail "--help's control tunables lack $key="
		grep -qx -- "$key" <<<"$comp" || fail "the completion's tunables lack $key"
	done
	for key in "${fixed[@]}"; do
		grep -qw -- "$key" <<<"$man" || fail "the man page's CONTROL does not name $key"
	done
	# and nothing the code does not have (abort=1 is an action, not a value)
	for key in $readme $comp; do
		[ "$key" = abort ] && continue
		printf '%s\n' "${settable[@]}" "${fixed[@]}" | grep -qx -- "$key" ||
			fail "$key is documented or completed but the control has no such key"
	done
}

@test "formats: the --format table's words are in --help, the man page, README's table and the completion" {
	local words w help man readme comp
	run -1 "$BLKFUSE" --list --format=nosuch "$IMG"
	words=$(sed -n 's/^blkfuse: error: --format must be \(.*\), not nosuch$/\1/p' <<<"$output" |
		sed 's/ or /, /' | tr -d ',')
	[ -n "$words" ] || fail "no format list in: $output"
	help=$(section "$("$BLKFUSE" --help)" '--format=FMT' '^     --[a-z]' | head -4)
	man=$(section "$(man_text)" '^ +--format=FMT' '^ +--backing-dir')
	readme=$(sed -n '/^| format | `--format`/,/^$/p' "$REPO/README.md")
	comp=$(completion_words '^[[:space:]]*--format\)')
	for w in $words; do
		grep -qw -- "$w" <<<"$help" || fail "--help's --format lacks $w"
		grep -qw -- "$w" <<<"$man" || fail "the man page's --format lacks $w"
		grep -qx -- "$w" <<<"$comp" || fail "the completion's --format lacks $w"
		[ "$w" = auto ] || grep -qF -- "| \`$w\`" <<<"$readme" ||
			grep -qF -- ", \`$w\`" <<<"$readme" || fail "README's format table lacks $w"
	done
	for w in $comp; do
		grep -qw -- "$w" <<<"$words" || fail "the completion offers --format=$w, which the code refuses"
	done
}

@test "columns: every --list column (the code's table, as --help prints it) is in the man page, README and the completion" {
	local cols c man readme comp
	cols=$(section "$("$BLKFUSE" --help)" '^Columns:' '^$' | awk 'NR > 1 { print $1 }')
	[ "$(wc -w <<<"$cols")" -ge 10 ] || fail "no columns in --help"
	man=$(man_text)
	readme=$(grep -E '^\| `-l`, `--list`|^\| `-o COLS`' "$REPO/README.md")
	comp=$(completion_words "compgen -P \"\\\$pre\" -W 'NR")
	for c in $cols; do
		grep -qw -- "$c" <<<"$man" || fail "the man page lacks the column $c"
		grep -qw -- "$c" <<<"$readme" || fail "README's --list rows lack the column $c"
		grep -qx -- "$c" <<<"$comp" || fail "the completion lacks the column $c"
	done
	for c in $comp; do
		grep -qx -- "$c" <<<"$cols" || fail "the completion offers the column $c, which --list does not have"
	done
}

@test "mount options: the -o words of --help and the completion are the same set" {
	local help comp w
	# the words column: a line starting with one space, up to two spaces
	help=$(section "$("$BLKFUSE" --help)" '^Mount options' '^ The mount is always' |
		grep -E '^ [a-z]' | sed -E 's/^ //; s/  .*//' | tr ',' '\n' |
		sed -E 's/^ +//; s/=.*//; s/ .*//' | grep . | sort -u)
	comp=$(completion_words "compgen -P \"\\\$pre\" -W 'allow_other" | sort -u)
	for w in $help; do
		grep -qx -- "$w" <<<"$comp" || fail "the completion lacks -o $w"
	done
	for w in $comp; do
		grep -qx -- "$w" <<<"$help" || fail "the completion offers -o $w, which --help does not list"
	done
}

# The container formats of the driver table (core/image/drivers.c), each
# descriptor's .name, in table order.
table_formats() {
	local repo=$BATS_TEST_DIRNAME/.. d
	for d in $(sed -n '/blk_image_drivers\[\] = {/,/};/p' "$repo/core/image/drivers.c" |
		grep -o '&blk_image_[a-z0-9]*' | tr -d '&'); do
		grep -h -A1 "^const struct blk_image_driver $d = {" "$repo"/core/image/*.c |
			grep -o '\.name = "[^"]*"' | cut -d'"' -f2
	done
}

@test "--help, --version and the man page list exactly the driver table's formats" {
	local want
	want=$(printf 'auto raw %s' "$(table_formats | xargs)")
	[ "$(wc -w <<<"$want")" -ge 9 ] || fail "table not found: $want"
	run "$BLKFUSE" --help
	assert_equal "$(sed -n '/--format=FMT/,/(auto, the default/p' <<<"$output" |
		sed -e 's/.*--format=FMT *one of//' -e '/(auto, the default/d' | xargs)" "$want"
	# a full build (CI's) reads every format: --version lists them all
	run "$BLKFUSE" --version
	assert_equal "$(sed -n 's/^formats: //p' <<<"$output")" "${want#auto }"
	run man_text
	assert_equal "$(grep -A2 -e '--format=FMT' <<<"$output" | tr '\n' ' ' |
		tr -s ' ' | grep -o 'One of [^;]*;' | sed -e 's/One of //' -e 's/[,;]//g' -e 's/ or / /' | xargs)" "$want"
	run "$BLKFUSE" --list --format=nosuch "$IMG"
	assert_failure
	assert_line --index 0 "blkfuse: error: --format must be $(sed -e 's/ /, /g' -e 's/, \([^,]*\)$/ or \1/' <<<"$want"), not nosuch"
}
