package dev.grpckeepalive.connection;

import io.grpc.Attributes;
import io.grpc.ServerTransportFilter;

/**
 * Opens a {@link ConnectionRecord} when a server transport becomes ready and hands it to
 * every call through the transport attributes; closes it when the transport terminates.
 */
final class ServerConnectionFilter extends ServerTransportFilter {

	private final ConnectionTracker tracker;

	ServerConnectionFilter(ConnectionTracker tracker) {
		this.tracker = tracker;
	}

	@Override
	public Attributes transportReady(Attributes transportAttrs) {
		return this.tracker.transportReady(transportAttrs);
	}

	@Override
	public void transportTerminated(Attributes transportAttrs) {
		// attributes without a record: the transport never became ready (bytes that were not HTTP/2)
		ConnectionTracker.transportTerminated(transportAttrs);
	}

}
