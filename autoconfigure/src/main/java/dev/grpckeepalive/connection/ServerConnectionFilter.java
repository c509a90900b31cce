package dev.grpckeepalive.connection;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;

/**
 * Opens a {@link ConnectionRecord} when a server transport becomes ready and hands it to
 * every call through the transport attributes; closes it when the transport terminates.
 */
public final class ServerConnectionFilter extends ServerTransportFilter {

	private final ConnectionTracker tracker;

	public ServerConnectionFilter(ConnectionTracker tracker) {
		this.tracker = tracker;
	}

	@Override
	public Attributes transportReady(Attributes transportAttrs) {
		ConnectionRecord record = this.tracker.connectionOpened(transportAttrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
				transportAttrs.get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR));
		return transportAttrs.toBuilder().set(ConnectionRecord.ATTRIBUTE, record).build();
	}

	@Override
	public void transportTerminated(Attributes transportAttrs) {
		// null when the transport never became ready, for instance when the bytes were not HTTP/2
		ConnectionRecord record = (transportAttrs != null) ? transportAttrs.get(ConnectionRecord.ATTRIBUTE) : null;
		if (record != null) {
			record.close();
		}
	}

}
