package dev.grpckeepalive.connection;

import io.grpc.Attributes;
import io.grpc.ClientTransportFilter;

/** Opens and closes a channel's {@link ConnectionRecord}s with its transports. */
final class ClientConnectionFilter extends ClientTransportFilter {

	private final ConnectionTracker tracker;

	ClientConnectionFilter(ConnectionTracker tracker) {
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
