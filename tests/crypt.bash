# shellcheck shell=bash
# LUKS volumes made by cryptsetup itself for the tests (crypt.bats,
# nesting.bats), without device-mapper: `reencrypt --encrypt` works on a
# plain file.

# luks_encrypt FILE REDUCE_MIB KEYFILE [cryptsetup options...]: FILE,
# encrypted in place as LUKS2 with the key file (taken whole, newline and
# all) and a fast PBKDF; its first size - REDUCE_MIB bytes of plaintext
# are FILE's first bytes as they were.
luks_encrypt() {
	local file=$1 reduce=$2 key=$3
	shift 3
	cryptsetup reencrypt --encrypt --type luks2 --batch-mode \
		--reduce-device-size "${reduce}M" --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 "$@" --key-file "$key" \
		"$file" >/dev/null 2>&1
}
