package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// route is one endpoint: the role it needs and, for a mutating call, the
// action its audit record names. Every route is declared here, so the
// role matrix test and the OpenAPI test see them all.
type route struct {
	method, path string
	role         Role
	action       string
	handler      gin.HandlerFunc
}

// RouteInfo describes a route for tests and documentation.
type RouteInfo struct {
	Method, Path string
	Role         Role
	Action       string
}

// Routes lists every route with the role it needs.
func (s *Server) Routes() []RouteInfo {
	var out []RouteInfo
	for _, r := range s.routes() {
		out = append(out, RouteInfo{r.method, r.path, r.role, r.action})
	}
	return out
}

func (s *Server) routes() []route {
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	metrics := gin.WrapH(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	return []route{
		// Probes and scrapes stay open, as Prometheus and Kubernetes expect.
		{get, "/healthz", RoleNone, "", s.healthz},
		{get, "/readyz", RoleNone, "", s.readyz},
		{get, "/metrics", RoleNone, "", metrics},
		{get, "/openapi.json", RoleNone, "", s.openAPI},
		// The web console's static files; its pages call the API with the
		// user's token, so the files themselves are open.
		{get, "/", RoleNone, "", func(c *gin.Context) { c.Redirect(http.StatusFound, "/ui/") }},
		{get, "/ui/*path", RoleNone, "", s.console},
		{get, "/ping", RoleNone, "", s.ping},
		{http.MethodHead, "/ping", RoleNone, "", s.ping},

		// InfluxDB-compatible ingest: v2 (Telegraf outputs.influxdb_v2) and v1
		// (outputs.influxdb). Not audited per call (agents write every few
		// seconds); counted in foresight_ingest_* metrics instead.
		{post, "/api/v2/write", RoleIngest, "", s.write},
		{post, "/write", RoleIngest, "", s.write},

		{get, "/api/v1/whoami", RoleViewer, "", s.whoami},
		{get, "/api/v1/series", RoleViewer, "", s.listSeries},
		{get, "/api/v1/series/:id/data", RoleViewer, "", s.seriesData},
		{get, "/api/v1/series/:id/forecast", RoleViewer, "", s.seriesForecast},
		{post, "/api/v1/forecast", RoleViewer, "", s.postForecast},
		{get, "/api/v1/predictions", RoleViewer, "", s.predictions},
		{get, "/api/v1/predictions/:id", RoleViewer, "", s.getPrediction},
		{get, "/api/v1/tickets", RoleViewer, "", s.listTickets},
		{get, "/api/v1/tickets/:id", RoleViewer, "", s.getTicket},
		{get, "/api/v1/tickets/:id/history", RoleViewer, "", s.ticketHistory},
		{get, "/api/v1/tickets/:id/comments", RoleViewer, "", s.ticketComments},
		{get, "/api/v1/jobs", RoleViewer, "", s.listJobs},
		{get, "/api/v1/jobs/:name", RoleViewer, "", s.getJob},
		{get, "/api/v1/jobs/:name/runs", RoleViewer, "", s.jobRuns},
		{get, "/api/v1/runs", RoleViewer, "", s.listRuns},

		{post, "/api/v1/tickets/:id/transition", RoleOperator, "ticket.transition", s.transitionTicket},
		{post, "/api/v1/tickets/:id/comments", RoleOperator, "ticket.comment", s.commentTicket},
		{post, "/api/v1/jobs/:name/trigger", RoleOperator, "job.trigger", s.triggerJob},
		{get, "/api/v1/deliveries/dead", RoleOperator, "", s.deadLetters},
		{post, "/api/v1/deliveries/:id/retry", RoleOperator, "delivery.retry", s.retryDeadLetter},
		// Signed with the inbound secret instead of a token.
		{post, "/api/v1/hooks/tickets", RoleNone, "ticket.hook", s.inboundTicketHook},

		{get, "/api/v1/tokens", RoleAdmin, "", s.listTokens},
		{post, "/api/v1/tokens", RoleAdmin, "token.create", s.createToken},
		{del, "/api/v1/tokens/:id", RoleAdmin, "token.revoke", s.revokeToken},
		{get, "/api/v1/audit", RoleAdmin, "", s.listAudit},
		{get, "/api/v1/config", RoleAdmin, "", s.getConfig},
	}
}
