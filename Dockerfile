FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs a key that passes the production check; a throwaway one, never stored in the image.
RUN DEBUG=false SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput
RUN useradd --create-home handoff && mkdir -p /app/media && chown handoff /app/media
USER handoff
EXPOSE 8000
# Worker class and threads: gunicorn.conf.py (the same settings `make bench` measures).
CMD ["gunicorn", "helpdesk.wsgi:application", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
