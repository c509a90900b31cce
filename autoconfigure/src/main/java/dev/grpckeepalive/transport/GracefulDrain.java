package dev.grpckeepalive.transport;

import java.lang.reflect.Constructor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.connection.GracefulClose;

/**
 * Drains one server connection for an operator the way grpc-java retires a connection at
 * max-connection-age: its own graceful close, started by writing its
 * {@code GracefulServerCloseCommand} into the channel. grpc-java then sends GOAWAY
 * {@code NO_ERROR} with the highest stream id and a PING; once the PING is answered (or after
 * 10 s) a second GOAWAY names the last stream it accepted, so that no call the client started
 * in between is lost (the client retries those on a new connection); the calls in flight get
 * the grace, and the connection closes as soon as they are done. The debug data of both
 * GOAWAYs is {@value GracefulClose#GOAWAY_DEBUG_DATA}: the frame observer reads it as the
 * close reason {@code drained}, and so does a client of this starter.
 *
 * <p>The command's class is package-private in grpc-java (its constructors are public), so it
 * is made by reflection, once. Should a grpc-java version lack it, the drain falls back to a
 * close through the pipeline, which grpc-java turns into the same graceful close with debug
 * data {@code app_requested} and without a grace; the channel is then closed here once the
 * grace is over. No state: nothing per connection.
 */
final class GracefulDrain {

	private static final Log logger = LogFactory.getLog(GracefulDrain.class);

	private static final String COMMAND = "io.grpc.netty.shaded.io.grpc.netty.GracefulServerCloseCommand";

	/** How long grpc-java may wait for the answer to its PING before the second GOAWAY. */
	static final Duration PING_WAIT = Duration.ofSeconds(10);

	private static final @Nullable Constructor<?> command = commandConstructor();

	private GracefulDrain() {
	}

	/**
	 * Starts the graceful close of {@code channel}, from any thread.
	 * @param channel a server connection
	 * @param grace how long its calls in flight get
	 */
	static void start(Channel channel, Duration grace) {
		Object closeCommand = newCommand(grace);
		if (closeCommand != null) {
			channel.writeAndFlush(closeCommand);
			return;
		}
		channel.close();
		long delayNanos = saturatedNanos(grace) + PING_WAIT.toNanos();
		if (delayNanos > 0) {
			// no overflow: a grace beyond the range of nanoseconds never runs out
			channel.eventLoop().schedule(() -> SocketRelease.closeNow(channel), delayNanos, TimeUnit.NANOSECONDS);
		}
	}

	/** Whether grpc-java's own graceful close command is available (else the fallback). */
	static boolean isCommandAvailable() {
		return command != null;
	}

	private static @Nullable Object newCommand(Duration grace) {
		Constructor<?> constructor = command;
		if (constructor == null) {
			return null;
		}
		try {
			return constructor.newInstance(GracefulClose.GOAWAY_DEBUG_DATA, saturatedNanos(grace), TimeUnit.NANOSECONDS);
		}
		catch (ReflectiveOperationException | RuntimeException ex) {
			return null;
		}
	}

	private static long saturatedNanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

	private static @Nullable Constructor<?> commandConstructor() {
		try {
			Constructor<?> constructor = Class.forName(COMMAND, false, GracefulDrain.class.getClassLoader())
				.getConstructor(String.class, long.class, TimeUnit.class);
			constructor.setAccessible(true);
			return constructor;
		}
		catch (ReflectiveOperationException | RuntimeException | LinkageError ex) {
			logger.debug("grpc-java's GracefulServerCloseCommand is not available (" + ex
					+ "): an operator's drain closes connections through the pipeline instead");
			return null;
		}
	}

}
