"""JupyterHub configuration of the course's deployment (copied to ``<prefix>/etc/``).

``cnn-course hub setup`` writes ``hub.json`` beside this file; everything specific to the
deployment comes from there. For a university's own server, change the marked settings
(authenticator, spawner, bind address and TLS); see README "The course on JupyterHub".
"""

import json
from pathlib import Path

c = get_config()  # noqa: F821 -- injected by traitlets when JupyterHub loads this file

HERE = Path(__file__).resolve().parent
hub = json.loads((HERE / "hub.json").read_text())
prefix = Path(hub["prefix"])
state = prefix / "state"
venv = prefix / "venv"

# --- Where the hub listens: 127.0.0.1 only. A real server puts TLS in front (or sets
# c.JupyterHub.ssl_cert / ssl_key) and binds its public address.
c.JupyterHub.bind_url = f"http://127.0.0.1:{hub['port']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{hub['port'] + 1}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub['port'] + 2}"
c.ConfigurableHTTPProxy.command = [
    str(prefix / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")
]
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")

# --- Who may log in. PAM checks Unix passwords; a university sets its own authenticator
# here (LDAP, OAuth, LTI), keeping the allowed users and the instructor's role below.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = {hub["instructor"], *hub["students"]}

# --- Each user's server: the user's own Unix account (LocalProcessSpawner), on the Python
# every user can read, in their home. A university with many users may use SystemdSpawner
# or DockerSpawner instead; keep cmd, environment and pre_spawn_hook.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
# A busy server starts servers slowly: the defaults (30 s, 60 s) fail them.
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180


def role_config(spawner):
    """Students and the grader get their own Jupyter configuration (extensions, exchange).

    The folder is root's, so a user cannot change what their role turns on; it only sets
    what each role sees. What a student cannot reach (the course folder, the reference)
    is kept from them by Unix modes, not by which extensions are on.
    """
    role = "grader" if spawner.user.name == hub["instructor"] else "student"
    spawner.environment["JUPYTER_CONFIG_PATH"] = str(prefix / "etc" / f"jupyter-{role}")


c.Spawner.pre_spawn_hook = role_config
