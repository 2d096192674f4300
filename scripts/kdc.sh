# shellcheck shell=bash
# A throwaway MIT Kerberos realm on loopback, for the Kerberos interop tests.
# Source it after lib.sh, then:
#   start_kdc     creates realm $KDC_REALM in a temp dir, starts krb5kdc on
#                 127.0.0.1:$KDC_PORT and exports
#                   KRB5_CONFIG KRB5_KDC_PROFILE KRB5CCNAME  (the realm's files)
#                   KDC_REALM KDC_HOST KDC_OTHER_HOST KDC_KEYTAB KDC_PID KDC_DIR
#                 Principals: $SMB_USER (password $SMB_PASS), cifs/$KDC_HOST
#                 (its keys, two key versions, in $KDC_KEYTAB) and
#                 cifs/$KDC_OTHER_HOST (a service whose keys cifsd never gets).
#   stop_kdc      stops it and removes the directory.
# The host names never resolve: smbclient is pointed at 127.0.0.1 with -I.

: "${KDC_REALM:=CIFSD.TEST}"
: "${KDC_HOST:=srv.cifsd.test}"
: "${KDC_OTHER_HOST:=other.cifsd.test}"

kdc_available() {
	command -v krb5kdc >/dev/null && command -v kdb5_util >/dev/null &&
		command -v kadmin.local >/dev/null && command -v kinit >/dev/null
}

start_kdc() {
	kdc_available || { log "kdc: krb5kdc/kadmin.local/kinit not installed"; return 1; }
	KDC_DIR=$(mktemp -d /tmp/kdc.XXXXXX)
	KDC_PORT=$(free_port)
	export KDC_DIR KDC_PORT KDC_REALM KDC_HOST KDC_OTHER_HOST
	export KRB5_CONFIG=$KDC_DIR/krb5.conf KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf
	export KRB5CCNAME=FILE:$KDC_DIR/ccache KDC_KEYTAB=$KDC_DIR/cifs.keytab
	local domain
	domain=$(tr '[:upper:]' '[:lower:]' <<<"$KDC_REALM")
	cat >"$KRB5_CONFIG" <<EOC
[libdefaults]
	default_realm = $KDC_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	udp_preference_limit = 1
[realms]
	$KDC_REALM = {
		kdc = 127.0.0.1:$KDC_PORT
	}
[domain_realm]
	.$domain = $KDC_REALM
	$domain = $KDC_REALM
EOC
	cat >"$KRB5_KDC_PROFILE" <<EOC
[kdcdefaults]
	kdc_listen = 127.0.0.1:$KDC_PORT
	kdc_tcp_listen = 127.0.0.1:$KDC_PORT
[realms]
	$KDC_REALM = {
		database_name = $KDC_DIR/principal
		key_stash_file = $KDC_DIR/stash
		acl_file = $KDC_DIR/kadm5.acl
		max_life = 10h
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:$KDC_DIR/kdc.log
EOC
	: >"$KDC_DIR/kadm5.acl"
	timeout 60 kdb5_util create -s -r "$KDC_REALM" -P "kdc-master-$$" >"$KDC_DIR/setup.log" 2>&1 ||
		{ log "kdc: kdb5_util create failed"; cat "$KDC_DIR/setup.log" >&2; return 1; }
	local q
	for q in "addprinc -pw $SMB_PASS $SMB_USER" \
		"addprinc -randkey cifs/$KDC_HOST" \
		"addprinc -randkey cifs/$KDC_OTHER_HOST" \
		"ktadd -k $KDC_KEYTAB cifs/$KDC_HOST" \
		"ktadd -k $KDC_KEYTAB cifs/$KDC_HOST"; do
		# ktadd twice: the keytab holds key versions 2 and 3, as after a
		# key rotation; tickets use the newest.
		timeout 60 kadmin.local -r "$KDC_REALM" -q "$q" >>"$KDC_DIR/setup.log" 2>&1 ||
			{ log "kdc: kadmin.local $q failed"; cat "$KDC_DIR/setup.log" >&2; return 1; }
	done
	krb5kdc -n -r "$KDC_REALM" >"$KDC_DIR/krb5kdc.out" 2>&1 &
	KDC_PID=$!
	export KDC_PID
	if ! wait_port "$KDC_PORT" "$KDC_PID" 30; then
		log "kdc: krb5kdc did not start"
		cat "$KDC_DIR/krb5kdc.out" "$KDC_DIR/kdc.log" >&2 2>/dev/null || true
		return 1
	fi
}

stop_kdc() {
	[ -n "${KDC_PID:-}" ] && kill_wait "$KDC_PID"
	[ -n "${KDC_DIR:-}" ] && rm -rf "$KDC_DIR"
	KDC_PID= KDC_DIR=
	unset KRB5_CONFIG KRB5_KDC_PROFILE KRB5CCNAME KDC_KEYTAB
}
