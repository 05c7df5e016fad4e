vcl 4.1;
# The shared page cache in front of the web instances: public pages and verifications, tagged by Surrogate-Key and
# purged by tag (vmod-xkey) when a batch changes. The backends and the purgers' addresses come from the included file.
import xkey;

include "backends.vcl";

sub vcl_recv {
  if (req.method == "PURGE") {
    if (client.ip !~ purgers) {
      return (synth(403, "Forbidden"));
    }
    # A batch's own pages are dropped at once; the lists are marked stale and refetched on their next request.
    if (req.http.xkey-purge) {
      set req.http.x-purged = xkey.purge(req.http.xkey-purge);
    }
    if (req.http.xkey-softpurge) {
      set req.http.x-softpurged = xkey.softpurge(req.http.xkey-softpurge);
    }
    return (synth(200, "Purged"));
  }
  if (req.method != "GET" && req.method != "HEAD") {
    return (pass);
  }
  # These answers are the same for every caller: a session cookie must not split or bypass them.
  if (req.url ~ "^/(marketplace|analytics)(\?|$)" || req.url ~ "^/(verify|01)/" || req.url ~ "^/api/verify/") {
    unset req.http.Cookie;
    return (hash);
  }
  return (pass);
}

sub vcl_backend_response {
  # Only what the app marked public is kept (Set-Cookie, private and no-store are passed by the built-in rules).
  if (beresp.http.Cache-Control !~ "public") {
    set beresp.uncacheable = true;
    return (deliver);
  }
  if (beresp.http.Surrogate-Key) {
    set beresp.http.xkey = beresp.http.Surrogate-Key;
  }
}

sub vcl_deliver {
  if (obj.hits > 0) {
    set resp.http.X-Cache = "hit";
  } else {
    set resp.http.X-Cache = "miss";
  }
  unset resp.http.xkey;
}
