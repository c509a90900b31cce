package dev.grpckeepalive.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import dev.grpckeepalive.test.Http2FrameLog.Direction;

/**
 * A TCP proxy on loopback for keepalive tests. It forwards bytes both ways and decodes the
 * HTTP/2 frames into an {@link Http2FrameLog}. {@link #blackhole()} makes it drop every
 * byte from then on without closing any socket, as a dead peer or a silent network
 * partition would: neither side sees a FIN or RST, only silence. Dropped frames are still
 * logged, as a capture on the sender's side would show them.
 */
public final class SniffingTcpProxy implements AutoCloseable {

	private final ServerSocket listener;

	private final int upstreamPort;

	private final Http2FrameLog frameLog = new Http2FrameLog();

	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	private final List<Long> upstreamClosedAt = new CopyOnWriteArrayList<>();

	private final AtomicLong lastForwardedToServer = new AtomicLong();

	private volatile boolean blackholed;

	private final ReadWriteLock forwarding = new ReentrantReadWriteLock();

	private volatile int connections;

	public SniffingTcpProxy(int upstreamPort) throws IOException {
		this(0, upstreamPort);
	}

	/**
	 * A proxy on a given loopback port, for a path that must be known before it opens (a load
	 * balancer's server address).
	 * @param port the proxy's port, {@code 0} for any free one
	 * @param upstreamPort the server's port on loopback
	 */
	public SniffingTcpProxy(int port, int upstreamPort) throws IOException {
		this.upstreamPort = upstreamPort;
		this.listener = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
		Thread acceptor = new Thread(this::acceptLoop, "proxy-accept-" + this.listener.getLocalPort());
		acceptor.setDaemon(true);
		acceptor.start();
	}

	/** The proxy's own port on loopback. */
	public int port() {
		return this.listener.getLocalPort();
	}

	/** A gRPC target that reaches the upstream server through this proxy. */
	public String target() {
		return "127.0.0.1:" + port();
	}

	public Http2FrameLog frames() {
		return this.frameLog;
	}

	/** From now on, drop every byte in both directions, keeping all sockets open: once this returns, nothing more is forwarded. */
	public void blackhole() {
		this.forwarding.writeLock().lock();
		try {
			this.blackholed = true;
		}
		finally {
			this.forwarding.writeLock().unlock();
		}
	}

	/** How many client connections the proxy accepted. */
	public int connections() {
		return this.connections;
	}

	/** {@link System#nanoTime()} of each upstream (server-side) socket the server closed. */
	public List<Long> upstreamClosedAt() {
		return List.copyOf(this.upstreamClosedAt);
	}

	/**
	 * {@link System#nanoTime()} when bytes were last forwarded to the server, taken just before
	 * they were written: no later than when the server read them.
	 */
	public long lastForwardedToServer() {
		return this.lastForwardedToServer.get();
	}

	private void acceptLoop() {
		while (!this.listener.isClosed()) {
			try {
				Socket client = this.listener.accept();
				Socket upstream = new Socket();
				upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.upstreamPort), 5000);
				client.setTcpNoDelay(true);
				upstream.setTcpNoDelay(true);
				this.sockets.add(client);
				this.sockets.add(upstream);
				int connection = this.connections++;
				pump(client, upstream, this.frameLog.decoder(connection, Direction.CLIENT_TO_SERVER), false);
				pump(upstream, client, this.frameLog.decoder(connection, Direction.SERVER_TO_CLIENT), true);
			}
			catch (IOException ex) {
				// listener closed, or upstream refused: the client sees its socket close
			}
		}
	}

	private void pump(Socket from, Socket to, Http2FrameLog.Decoder decoder, boolean fromServer) {
		Thread thread = new Thread(() -> {
			byte[] buffer = new byte[16384];
			try (InputStream in = from.getInputStream()) {
				OutputStream out = to.getOutputStream();
				int read;
				while ((read = in.read(buffer)) != -1) {
					decoder.accept(buffer, read);
					// shared with the other pumps, exclusive with blackhole(): once that returns, no byte is
					// half-way through, and lastForwardedToServer() is final
					this.forwarding.readLock().lock();
					try {
						if (this.blackholed) {
							continue;
						}
						if (!fromServer) {
							// taken before the write: the server cannot read the bytes earlier, however late this thread
							// runs after the write, so that what the server times from its last read comes after it
							this.lastForwardedToServer.set(System.nanoTime());
						}
						out.write(buffer, 0, read);
						out.flush();
					}
					finally {
						this.forwarding.readLock().unlock();
					}
				}
				if (fromServer) {
					this.upstreamClosedAt.add(System.nanoTime());
				}
			}
			catch (IOException ex) {
				if (fromServer) {
					this.upstreamClosedAt.add(System.nanoTime());
				}
			}
			finally {
				closeQuietly(from);
				if (!this.blackholed) {
					closeQuietly(to);
				}
			}
		}, "proxy-pump");
		thread.setDaemon(true);
		thread.start();
	}

	private static void closeQuietly(Socket socket) {
		try {
			socket.close();
		}
		catch (IOException ex) {
			// already closed
		}
	}

	@Override
	public void close() throws IOException {
		this.listener.close();
		this.sockets.forEach(SniffingTcpProxy::closeQuietly);
	}

}
