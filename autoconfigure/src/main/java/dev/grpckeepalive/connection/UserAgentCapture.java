package dev.grpckeepalive.connection;

import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.netty.shaded.io.netty.util.concurrent.FastThreadLocal;
import org.jspecify.annotations.Nullable;

/**
 * Hands each server connection's record the client's {@code user-agent} from the headers of
 * its first stream, whatever the method: grpc-java asks stream tracer factories for a tracer
 * for every stream it accepts, before it looks the method up, whereas interceptors only see
 * calls to methods the server has. A client whose calls all go to unknown methods
 * ({@code UNIMPLEMENTED}) is still named by its user agent in the advisor's findings.
 *
 * <p>grpc-java creates the tracer on the connection's event loop while the frame observer's
 * {@code channelRead} passes the bytes on: the observer names the connection being read
 * ({@link #reading}) as long as its user agent is unknown, and nothing once it is known. Per
 * stream: one thread-local read and one shared no-op tracer, no allocation.
 */
public final class UserAgentCapture extends ServerStreamTracer.Factory {

	/** The one instance: it holds no state of its own. */
	public static final UserAgentCapture INSTANCE = new UserAgentCapture();

	static final Metadata.Key<String> USER_AGENT = Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);

	private static final FastThreadLocal<ConnectionRecord> READING = new FastThreadLocal<>();

	/** Holds no state: grpc-java only calls it, so one instance serves every stream. */
	private static final ServerStreamTracer NO_OP = new ServerStreamTracer() {
	};

	private UserAgentCapture() {
	}

	/**
	 * The connection whose bytes this event loop is about to pass to grpc-java, or
	 * {@code null} when it is done; set only while the connection's user agent is unknown.
	 */
	public static void reading(@Nullable ConnectionRecord record) {
		READING.set(record);
	}

	@Override
	public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
		ConnectionRecord record = READING.get();
		if (record != null) {
			userAgentOf(record, headers);
		}
		return NO_OP;
	}

	/** Hands the record the user agent of these headers, if it does not have one yet. */
	static void userAgentOf(ConnectionRecord record, Metadata headers) {
		if (!record.isUserAgentKnown()) {
			String userAgent = headers.get(USER_AGENT);
			if (userAgent != null) {
				record.userAgentSeen(userAgent);
			}
		}
	}

}
