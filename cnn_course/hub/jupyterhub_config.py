"""JupyterHub configuration of the course's deployment (copied to ``<prefix>/etc/``).

``cnn-course hub setup`` writes ``hub.json`` beside this file; everything specific to the
deployment comes from there. For a university's own server, change the marked settings
(authenticator, spawner, bind address and TLS); see README "The course on JupyterHub".
"""

from pathlib import Path

from cnn_course.hub.settings import load

c = get_config()  # noqa: F821 -- injected by traitlets when JupyterHub loads this file

# The hub runs as root on the deployment's venv, where the course's package is installed.
hub = load(Path(__file__).resolve().parent / "hub.json")

# --- Where the hub listens: 127.0.0.1 only. A real server puts TLS in front (or sets
# c.JupyterHub.ssl_cert / ssl_key) and binds its public address.
c.JupyterHub.bind_url = hub.url
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub.port + 1}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub.port + 2}"
c.ConfigurableHTTPProxy.command = [str(hub.proxy_command)]
c.JupyterHub.cookie_secret_file = str(hub.state / "jupyterhub_cookie_secret")
c.JupyterHub.db_url = f"sqlite:///{hub.state / 'jupyterhub.sqlite'}"
c.ConfigurableHTTPProxy.pid_file = str(hub.state / "proxy.pid")

# --- Who may log in. PAM checks Unix passwords; a university sets its own authenticator
# here (LDAP, OAuth, LTI), keeping the allowed users and the instructor's role below.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = {hub.instructor, *hub.students}

# --- Each user's server: the user's own Unix account (LocalProcessSpawner), on the Python
# every user can read, in their home. A university with many users may use SystemdSpawner
# or DockerSpawner instead; keep cmd, environment and pre_spawn_hook.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(hub.venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {"PATH": f"{hub.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
# A busy server starts servers slowly: the defaults (30 s, 60 s) fail them.
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180


def role_config(spawner):
    """Students and the grader get their own Jupyter configuration (extensions, exchange).

    The folder is root's, so a user cannot change what their role turns on; it only sets
    what each role sees. What a student cannot reach (the course folder, the reference)
    is kept from them by Unix modes, not by which extensions are on.
    """
    role = hub.role_of(spawner.user.name)
    spawner.environment["JUPYTER_CONFIG_PATH"] = str(hub.role_config(role))


c.Spawner.pre_spawn_hook = role_config
