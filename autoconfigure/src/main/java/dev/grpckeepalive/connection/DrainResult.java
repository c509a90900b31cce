package dev.grpckeepalive.connection;

/** What an operator's drain of one server connection did, see {@link ConnectionTracker#drain}. */
public enum DrainResult {

	/** The graceful close started: GOAWAY {@code drained} now, the close after the calls or the grace. */
	DRAINING,

	/** The connection was already closing (a GOAWAY either way, or an earlier drain): nothing more was done. */
	ALREADY_DRAINING,

	/** No open connection has this id (never, or closed already). */
	NOT_OPEN,

	/** The connection cannot be drained: its frames are not observed ({@code grpc.keepalive.frames.enabled=false}). */
	NOT_DRAINABLE

}
