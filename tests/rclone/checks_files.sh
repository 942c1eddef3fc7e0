# shellcheck shell=bash
# rclone checks on file content (sourced by checks.sh): uploads by both
# routes, hashes, downloads and new versions. Each check seeds its own
# folder through boxapi.py and asserts on rclone's exit status and on the
# server's state (sizes, SHA-1s, ids) or the downloaded bytes.

# seed LOCAL REMOTE_PATH: uploads a fixture without rclone.
seed() {
    local out
    out="$(api put "$1" "$2" 2>&1)" || fail "seeding $2 through the API failed: $out"
}

seed_dir() {
    local out
    out="$(api mkdir "$1" 2>&1)" || fail "creating folder $1 through the API failed: $out"
}

check_mkdir() {
    rcl_ok mkdir box:made/sub/deeper || return
    local item
    item="$(api stat made/sub/deeper 2>&1)" || fail "no folder made/sub/deeper on the server: $item" || return
    [[ "$(field "$item" type)" == folder ]] || fail "made/sub/deeper is not a folder: $item"
    logged '^POST /2.0/folders' || fail "rclone sent no POST /2.0/folders"
}

check_copy_small() {
    rcl_ok copyto "$L/small.bin" box:up/small.bin || return
    expect_file up/small.bin "$L/small.bin" || return
    logged '^POST /api/2.0/files/content' || fail "not a simple upload (no POST /api/2.0/files/content)"
    ! logged 'upload_sessions' || fail "a small file went through an upload session"
}

check_copy_large() {
    rcl_ok copyto "$L/big.bin" box:up-large/big.bin || return
    expect_file up-large/big.bin "$L/big.bin" || return
    logged '^POST /api/2.0/files/upload_sessions ' || fail "no upload session was created"
    logged '^POST /api/2.0/files/upload_sessions/[0-9A-F]+/commit' || fail "no commit was sent"
}

check_check() {
    seed_dir checked || return
    local f
    for f in c1 c2 c3; do seed "$L/checked/$f.bin" "checked/$f.bin" || return; done
    rcl_ok check "$L/checked" box:checked || return
    grep -q 'Using sha1 for hash comparisons' "$CHECK_LOG" || fail "rclone check did not compare SHA-1s"
    grep -q '0 differences found' "$CHECK_LOG" || fail "rclone check did not report 0 differences"
    grep -q '3 matching files' "$CHECK_LOG" || fail "rclone check did not report 3 matching files"
    ! grep -qiE 'no hashes in common|size.only' "$CHECK_LOG" ||
        fail "rclone check fell back to sizes: the listing gave it no SHA-1"
    # Same size, one changed byte: only a hash comparison sees it.
    local changed="$W/changed"
    mkdir -p "$changed" && cp "$L/checked/"*.bin "$changed/"
    printf 'X' | dd of="$changed/c2.bin" bs=1 seek=100 conv=notrunc status=none
    local rc=0
    rcl check "$changed" box:checked || rc=$?
    [[ $rc -ne 0 ]] || fail "rclone check passed a file whose content differs (same size)"
    grep -q '1 differences found' "$CHECK_LOG" || fail "rclone check did not find the changed file"
}

check_hashsum() {
    seed_dir hs || return
    seed "$L/small.bin" hs/small.bin || return
    seed "$L/many/f3.bin" hs/f3.bin || return
    rcl_ok hashsum sha1 box:hs || return
    local want got
    want="$(cd "$L" && printf '%s  small.bin\n%s  f3.bin\n' "$(sha1_of small.bin)" "$(sha1_of many/f3.bin)" | sort)"
    got="$(sort "$OUT")"
    [[ "$got" == "$want" ]] || fail "rclone hashsum sha1 printed [$got], sha1sum says [$want]"
}

check_copy_back() {
    seed_dir back || return
    seed "$L/small.bin" back/small.bin || return
    seed "$L/big.bin" back/big.bin || return
    local dest="$W/back"
    # Headers only: the dump must not hold the 60 MiB body.
    rcl_ok --dump headers copy box:back "$dest" || return
    local f
    for f in small big; do
        [[ -f "$dest/$f.bin" ]] || fail "$f.bin was not downloaded" || continue
        cmp -s "$L/$f.bin" "$dest/$f.bin" || fail "the downloaded $f.bin differs from the uploaded one"
    done
    logged '^GET /2.0/files/[0-9]+/content' || fail "no GET /2.0/files/ID/content"
}

# overwrite NAME OLD NEW ROUTE_REGEX: seeds OLD at ow-NAME/file, then
# copies NEW over it with rclone; the file keeps its id and gets NEW's
# content as a new version (its etag moves on).
overwrite() {
    local dir="ow-$1" old="$2" new="$3" route="$4"
    seed_dir "$dir" || return
    seed "$old" "$dir/file.bin" || return
    local before
    before="$(api stat "$dir/file.bin")" || fail "cannot stat the seeded file" || return
    rcl_ok copyto "$new" "box:$dir/file.bin" || return
    expect_file "$dir/file.bin" "$new" || return
    local id
    id="$(field "$before" id)"
    [[ "$(field "$ITEM" id)" == "$id" ]] ||
        fail "the file's id changed from $id to $(field "$ITEM" id): not a new version"
    [[ "$(field "$ITEM" etag)" != "$(field "$before" etag)" ]] ||
        fail "the etag stayed $(field "$before" etag) after a new version"
    logged "${route//ID/$id}" || fail "no request matching '${route//ID/$id}'"
}

check_overwrite_small() {
    overwrite small "$L/small.bin" "$L/small-v2.bin" '^POST /api/2.0/files/ID/content'
}

check_overwrite_large() {
    overwrite large "$L/big.bin" "$L/big-v2.bin" '^POST /api/2.0/files/ID/upload_sessions'
}

# No byte of content may travel in a server-side operation.
expect_no_transfer() {
    ! logged '^POST /api/2.0/files/(content|upload_sessions|[0-9]+/content|[0-9]+/upload_sessions)' ||
        fail "rclone uploaded content instead of a server-side operation"
    ! logged '^GET /2.0/files/[0-9]+/content' ||
        fail "rclone downloaded content instead of a server-side operation"
}

check_server_side_copy() {
    seed_dir sc || return
    seed_dir sc-dest || return
    seed "$L/small.bin" sc/src.bin || return
    local src
    src="$(api stat sc/src.bin)" || fail "cannot stat the seeded file" || return
    rcl_ok copyto box:sc/src.bin box:sc-dest/copy.bin || return
    expect_file sc-dest/copy.bin "$L/small.bin" || return
    expect_file sc/src.bin "$L/small.bin" || return
    [[ "$(field "$(api stat sc-dest/copy.bin)" id)" != "$(field "$src" id)" ]] ||
        fail "the copy has the source's id"
    logged "^POST /2.0/files/$(field "$src" id)/copy" || fail "no POST /2.0/files/ID/copy"
    expect_no_transfer
}
