package dev.grpckeepalive.test;

import java.time.Duration;

import com.jayway.jsonpath.DocumentContext;

/**
 * A grpc-js process ({@code interop/grpc-js/peer.js}): {@link InteropPeer#node} under the name
 * the older tests use; new tests use {@link InteropPeer#node(String...)}.
 */
public final class NodePeer implements AutoCloseable {

	/** Environment variable that turns a missing grpc-js peer from a skip into a failure. */
	public static final String REQUIRED = InteropPeer.REQUIRED;

	private final InteropPeer peer;

	private NodePeer(InteropPeer peer) {
		this.peer = peer;
	}

	/**
	 * Starts {@code node peer.js <arguments>}, installing the peer's npm packages first if
	 * needed, or skips the test where Node.js is not installed.
	 */
	public static NodePeer start(String... arguments) throws Exception {
		return new NodePeer(InteropPeer.node(arguments));
	}

	/** The next event the peer printed, waiting up to {@code timeout}. */
	public DocumentContext nextEvent(Duration timeout) throws InterruptedException {
		return this.peer.nextEvent(timeout);
	}

	@Override
	public void close() throws Exception {
		this.peer.close();
	}

}
