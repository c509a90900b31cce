package dev.grpckeepalive.actuate;

import java.net.InetSocketAddress;

import io.grpc.InternalChannelz;
import io.grpc.InternalInstrumented;
import io.grpc.InternalWithLogId;

/**
 * Reads grpc-java's own keepalive count from channelz, as an independent check of the
 * frame observer. Test code only: main code never touches grpc-java internals.
 */
final class ChannelzProbe {

	private ChannelzProbe() {
	}

	/** The keepalive PINGs channelz counted on the connections of the server listening on {@code port}. */
	static long keepAlivesSent(int port) throws Exception {
		InternalChannelz channelz = InternalChannelz.instance();
		for (InternalInstrumented<InternalChannelz.ServerStats> server : channelz.getServers(0, 1000).servers) {
			InternalChannelz.ServerStats stats = server.getStats().get();
			boolean ours = stats.listenSockets.stream().anyMatch((socket) -> {
				try {
					return socket.getStats().get().local instanceof InetSocketAddress address
							&& address.getPort() == port;
				}
				catch (Exception ex) {
					return false;
				}
			});
			if (ours) {
				long total = 0;
				for (InternalWithLogId socket : channelz.getServerSockets(server.getLogId().getId(), 0, 1000).sockets) {
					total += channelz.getSocket(socket.getLogId().getId()).getStats().get().data.keepAlivesSent;
				}
				return total;
			}
		}
		throw new AssertionError("no server on port " + port + " in channelz");
	}

}
