package dev.grpckeepalive.connection;

import io.grpc.Attributes;
import io.grpc.ClientTransportFilter;
import io.grpc.Grpc;

/** Opens and closes a channel's {@link ConnectionRecord}s with its transports. */
public final class ClientConnectionFilter extends ClientTransportFilter {

	private final ConnectionTracker tracker;

	public ClientConnectionFilter(ConnectionTracker tracker) {
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
		ConnectionRecord record = (transportAttrs != null) ? transportAttrs.get(ConnectionRecord.ATTRIBUTE) : null;
		if (record != null) {
			record.close();
		}
	}

}
