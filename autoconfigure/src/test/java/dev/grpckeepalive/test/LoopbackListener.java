package dev.grpckeepalive.test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A listener on a loopback port of its own that hands each accepted connection to a handler on a daemon thread
 * of its own, for the test peers that speak raw HTTP/2. {@link #close()} closes the listener and every
 * connection, which ends the handlers' reads.
 */
public final class LoopbackListener implements AutoCloseable {

	private final ServerSocket listener;

	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	/** Listens at once; the handler's threads are named {@code name + "-connection"}. */
	public LoopbackListener(String name, Consumer<Socket> handler) throws IOException {
		this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		Thread acceptor = new Thread(() -> acceptLoop(name, handler), name);
		acceptor.setDaemon(true);
		acceptor.start();
	}

	/** {@code 127.0.0.1:port}, a channel's target. */
	public String target() {
		return "127.0.0.1:" + this.listener.getLocalPort();
	}

	private void acceptLoop(String name, Consumer<Socket> handler) {
		try {
			while (!this.listener.isClosed()) {
				Socket socket = this.listener.accept();
				this.sockets.add(socket);
				Thread connection = new Thread(() -> handler.accept(socket), name + "-connection");
				connection.setDaemon(true);
				connection.start();
			}
		}
		catch (IOException ex) {
			// closed
		}
	}

	@Override
	public void close() throws IOException {
		this.listener.close();
		for (Socket socket : this.sockets) {
			socket.close();
		}
	}

}
