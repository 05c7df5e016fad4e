# The web instances of deploy/compose.yaml, probed like the balancer does; `npm run topology` and the tests write
# their own file with the ports they started.
import directors;

probe ready {
  .url = "/api/ready";
  .interval = 1s;
  .timeout = 1s;
  .window = 2;
  .threshold = 2;
}

backend web1 { .host = "web1"; .port = "3000"; .probe = ready; }
backend web2 { .host = "web2"; .port = "3000"; .probe = ready; }

acl purgers {
  "localhost";
  "10.0.0.0"/8;
  "172.16.0.0"/12;
  "192.168.0.0"/16;
}

sub vcl_init {
  new web = directors.round_robin();
  web.add_backend(web1);
  web.add_backend(web2);
}

sub vcl_recv {
  set req.backend_hint = web.backend();
}
