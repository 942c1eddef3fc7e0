# shellcheck shell=bash
# rclone checks on the folder tree (sourced by checks.sh): listings (which
# page through markers: the remote asks for 3 entries a page), moves,
# deletes, purge, about and parallel transfers. Each seeds its own folders
# through boxapi.py and compares rclone's view or effect with the server's.

# server_entries JSON / lsjson_entries FILE: sorted "name type size" lines of
# a boxapi listing / of rclone lsjson output (size "-" for folders).
server_entries() {
    python3 -c '
import json, sys
for e in json.loads(sys.argv[1]):
    print(e["name"], e["type"], e.get("size") if e["type"] == "file" else "-")
' "$1" | sort
}

lsjson_entries() {
    python3 -c '
import json, sys
for e in json.load(open(sys.argv[1])):
    print(e["Name"], "folder" if e["IsDir"] else "file", "-" if e["IsDir"] else e["Size"])
' "$1" | sort
}

# The root gets a few folders and a file of its own, so that it too spans
# several pages.
seed_root() {
    local d
    for d in root-a root-b root-c root-d; do
        api stat "$d" >/dev/null 2>&1 || seed_dir "$d" || return
    done
    api stat root-file.bin >/dev/null 2>&1 || seed "$L/small.bin" root-file.bin
}

check_lsd_root() {
    seed_root || return
    rcl_ok lsd box: || return
    local want got
    want="$(server_entries "$(api ls "")" | awk '$2 == "folder" { print $1 }')"
    got="$(awk '{ print $NF }' "$OUT" | sort)"
    [[ "$got" == "$want" ]] || fail "rclone lsd listed [$(echo $got)], the server holds folders [$(echo $want)]"
}

check_lsjson_root() {
    seed_root || return
    rcl_ok lsjson box: || return
    local want got
    want="$(server_entries "$(api ls "")")"
    got="$(lsjson_entries "$OUT")" || fail "rclone lsjson printed no JSON list" || return
    [[ "$got" == "$want" ]] ||
        fail "rclone lsjson listed [$(echo $got)], the server holds [$(echo $want)]"
}

# paged/: 8 files and 2 folders, four pages of three.
seed_paged() {
    api stat paged >/dev/null 2>&1 && return
    seed_dir paged || return
    local i
    for i in 1 2 3 4 5 6 7 8; do seed "$L/many/f$i.bin" "paged/f$i.bin" || return; done
    seed_dir paged/sub1 || return
    seed_dir paged/sub2
}

# pages_fetched: how many pages of paged/ rclone asked for.
pages_fetched() {
    local id
    id="$(field "$(api stat paged)" id)"
    requests | grep -cE "^GET /2.0/folders/$id/items"
}

check_lsd_paged() {
    seed_paged || return
    rcl_ok lsd box:paged || return
    local got
    got="$(awk '{ print $NF }' "$OUT" | sort | tr '\n' ' ')"
    [[ "$got" == "sub1 sub2 " ]] || fail "rclone lsd box:paged listed [$got], the server holds [sub1 sub2]"
    local pages
    pages="$(pages_fetched)"
    [[ $pages -ge 4 ]] || fail "rclone fetched $pages pages of 3 for 10 entries, want at least 4"
}

check_lsjson_paged() {
    seed_paged || return
    rcl_ok lsjson --hash box:paged || return
    local want got
    want="$(server_entries "$(api ls paged)")"
    got="$(lsjson_entries "$OUT")" || fail "rclone lsjson printed no JSON list" || return
    [[ "$got" == "$want" ]] ||
        fail "rclone lsjson listed [$(echo $got)], the server holds 10 entries [$(echo $want)]"
    local pages
    pages="$(pages_fetched)"
    [[ $pages -ge 4 ]] || fail "rclone fetched $pages pages of 3 for 10 entries, want at least 4"
    python3 -c '
import json, sys
for e in json.load(open(sys.argv[1])):
    if not e["IsDir"] and not e.get("Hashes", {}).get("sha1"):
        sys.exit(e["Name"] + " has no sha1 in the listing")
' "$OUT" || fail "a listed file has no SHA-1"
}

check_moveto_rename() {
    seed_dir mv || return
    seed "$L/small.bin" mv/a.bin || return
    local id
    id="$(field "$(api stat mv/a.bin)" id)"
    rcl_ok moveto box:mv/a.bin box:mv/b.bin || return
    expect_gone mv/a.bin
    expect_file mv/b.bin "$L/small.bin" || return
    [[ "$(field "$ITEM" id)" == "$id" ]] || fail "the renamed file has a new id: a copy, not a move"
    logged "^PUT /2.0/files/$id" || fail "no PUT /2.0/files/$id"
    expect_no_transfer
}

check_moveto_folder() {
    seed_dir mv2 || return
    seed_dir mv2-dest || return
    seed "$L/small.bin" mv2/a.bin || return
    local id
    id="$(field "$(api stat mv2/a.bin)" id)"
    rcl_ok moveto box:mv2/a.bin box:mv2-dest/moved.bin || return
    expect_gone mv2/a.bin
    expect_file mv2-dest/moved.bin "$L/small.bin" || return
    [[ "$(field "$ITEM" id)" == "$id" ]] || fail "the moved file has a new id: a copy, not a move"
    logged "^PUT /2.0/files/$id" || fail "no PUT /2.0/files/$id"
    expect_no_transfer
}

check_delete() {
    seed_dir del || return
    seed_dir del/keep || return
    seed "$L/many/f1.bin" del/f1.bin || return
    seed "$L/many/f2.bin" del/f2.bin || return
    seed "$L/many/f3.bin" del/keep/f3.bin || return
    rcl_ok delete box:del || return
    expect_gone del/f1.bin
    expect_gone del/f2.bin
    expect_gone del/keep/f3.bin
    local left
    left="$(api ls del 2>&1)" || fail "the folder del is gone: $left" || return
    [[ "$(server_entries "$left")" == "keep folder -" ]] ||
        fail "del should hold only the folder keep, it holds: $left"
}

check_rmdir() {
    seed_dir empty || return
    seed_dir notempty || return
    seed "$L/small.bin" notempty/x.bin || return
    rcl_ok rmdir box:empty || return
    expect_gone empty
    local rc=0
    rcl rmdir box:notempty || rc=$?
    [[ $rc -ne 0 ]] || fail "rclone rmdir of a non-empty folder succeeded"
    expect_file notempty/x.bin "$L/small.bin"
}

check_purge() {
    seed_dir tree || return
    seed_dir tree/a || return
    seed_dir tree/a/b || return
    seed "$L/small.bin" tree/a/b/f.bin || return
    seed "$L/many/f1.bin" tree/c.bin || return
    rcl_ok purge box:tree || return
    expect_gone tree
    logged '^DELETE /2.0/folders/[0-9]+\?recursive=true' || fail "no DELETE /2.0/folders/ID?recursive=true"
}

check_about() {
    rcl_ok about --json box: || return
    python3 -c '
import json, sys
about = json.load(open(sys.argv[1]))
total, used = about.get("total"), about.get("used")
if not isinstance(total, int) or not isinstance(used, int):
    sys.exit(f"about has no numeric total/used: {about}")
if not 0 < used <= total:
    sys.exit(f"want 0 < used <= total with files stored, got {about}")
' "$OUT" 2>>"$REASONS" || fail "rclone about --json: see above"
    logged '^GET /2.0/users/me' || fail "no GET /2.0/users/me"
}

check_transfers() {
    rcl_ok copy --transfers 4 "$L/many" box:many || return
    local listed f
    listed="$(api ls many 2>&1)" || fail "no folder many on the server: $listed" || return
    [[ "$(server_entries "$listed" | wc -l)" -eq 8 ]] || fail "many holds $(server_entries "$listed" | wc -l) items, want 8"
    for f in 1 2 3 4 5 6 7 8; do
        expect_file "many/f$f.bin" "$L/many/f$f.bin" || return
    done
}
